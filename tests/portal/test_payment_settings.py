"""Choosing the payment platform from settings (STYLE.md convention 6: read once, a wrong or
half-made configuration stops start-up)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.errors import ConfigurationError
from portal.payment_platforms import PaymentPlatforms
from portal.settings import load_settings


@pytest.mark.parametrize("env", [
    {"PAYMENT_PLATFORM": "nontax"},  # keys missing
    {"NONTAX_APP_ID": "app-1"},  # a half-made switch must not silently keep the sandbox
    {"PAYMENT_PLATFORM": "alipay"},
    {"RECEIPT_CODE_PREFIX": "35"},
    {"RECEIPT_PROCESSES": "-1"},
    {"RECEIPT_PROCESSES": "two"},
    {"PAYMENT_PLATFORM": "nontax", "NONTAX_GATEWAY_URL": "http://plain.example/gw", "NONTAX_APP_ID": "a",
     "NONTAX_PRIVATE_KEY": "/k", "NONTAX_PLATFORM_KEY": "/p"},  # the gateway must be https
])
def test_a_wrong_payment_configuration_stops_start_up(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        load_settings({"DATA_DIR": str(tmp_path), **env})


def test_receipts_are_rendered_in_a_process_per_cpu_unless_told_otherwise(tmp_path: Path) -> None:
    def processes(**env: str) -> int:
        return load_settings({"DATA_DIR": str(tmp_path), **env}).payments.receipt_processes

    assert processes() == (os.cpu_count() or 1)
    assert processes(RECEIPT_PROCESSES="0") == 0  # in the worker's own process


def test_the_nontax_platform_is_built_from_its_pem_keys(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = tmp_path / "portal.pem"
    public = tmp_path / "platform.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    settings = load_settings({"DATA_DIR": str(tmp_path), "PAYMENT_PLATFORM": "nontax",
                              "NONTAX_GATEWAY_URL": "https://nontax.example/gateway", "NONTAX_APP_ID": "a",
                              "NONTAX_PRIVATE_KEY": str(private), "NONTAX_PLATFORM_KEY": str(public),
                              "NONTAX_PAY_ORIGIN": "https://pay.nontax.example/cashier"})
    platforms = PaymentPlatforms.from_settings(settings, mount_sandbox=True)
    assert platforms.active.name == "nontax" and platforms.sandbox is None
    assert platforms.form_action_origin == "https://pay.nontax.example"
    with pytest.raises(ConfigurationError):  # the public key where the private one belongs
        PaymentPlatforms.from_settings(load_settings({
            "DATA_DIR": str(tmp_path), "PAYMENT_PLATFORM": "nontax",
            "NONTAX_GATEWAY_URL": "https://nontax.example/gateway", "NONTAX_APP_ID": "a",
            "NONTAX_PRIVATE_KEY": str(public), "NONTAX_PLATFORM_KEY": str(public)}))
