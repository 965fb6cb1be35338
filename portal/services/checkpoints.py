"""Evidence checkpoints: the chain heads, stamped by a TSA and kept outside the rows they protect.

A hash chain shows a changed or removed event in its middle, but not a tail cut off with its
head row moved back, a whole chain deleted, or every hash recomputed after a rewrite (issue
15). So every few minutes the worker (``portal.workers.evidence``) takes a checkpoint:

1. read every chain head (``evidence_chain_heads``) that differs from what the checkpoints
   before it recorded for that chain;
2. ``digest`` = SHA-256 over the previous checkpoint's digest (64 zeros for the first) and
   those heads as lines ``chain<TAB>seq<TAB>hash<LF>`` in chain order, UTF-8;
3. an RFC 3161 timestamp over ``digest`` from the TSA (a third party's signature: nobody can
   make one for an earlier time later);
4. store checkpoint and heads (append-only tables, TRUNCATE refused), and export them with the
   token to ``DATA_DIR/evidence-checkpoints/<number>.json``, which an operator copies off the
   database's machine.

``verify`` recomputes every digest, checks every token against the trust settings, checks
that the event each checkpoint recorded is still there with the same hash (a chain's events
can grow after a checkpoint, never shrink or change), and that the newest exported file is
still in the database. Events after the newest checkpoint are protected by the chain alone
until the next one.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.database import transaction, utcnow
from portal.evidence_hash import GENESIS, instant_text
from portal.models.evidence import ChainHead, CheckpointHead, EvidenceCheckpoint, EvidenceEvent
from signing import SigningError, TimestampToken, TrustSettings, async_verify_timestamp

EXPORT_DIR = "evidence-checkpoints"
Stamp = Callable[[bytes], Awaitable[TimestampToken]]


@dataclass(frozen=True)
class Head:
    chain: str
    seq: int
    hash: str


def checkpoint_digest(prev_digest: str, heads: Iterable[Head]) -> str:
    """SHA-256 hex over the previous digest and the heads (module docstring, step 2)."""
    lines = "".join(f"{h.chain}\t{h.seq}\t{h.hash}\n" for h in sorted(heads, key=lambda h: h.chain))
    return hashlib.sha256((prev_digest + lines).encode()).hexdigest()


async def _checkpointed(db: AsyncSession) -> dict[str, Head]:
    """Each chain's newest head recorded by any checkpoint."""
    newest = (select(CheckpointHead.chain, func.max(CheckpointHead.checkpoint_id).label("checkpoint_id"))
              .group_by(CheckpointHead.chain).subquery())
    rows = await db.execute(select(CheckpointHead).join(newest, (CheckpointHead.chain == newest.c.chain) & (
        CheckpointHead.checkpoint_id == newest.c.checkpoint_id)))
    return {row.chain: Head(row.chain, row.seq, row.hash) for row in rows.scalars()}


async def take(sessions: async_sessionmaker[AsyncSession], stamp: Stamp, export_dir: Path,
               *, now: datetime | None = None) -> EvidenceCheckpoint | None:
    """Take one checkpoint of the heads changed since the last; None when nothing changed.

    Reads in one transaction, asks the TSA outside any, and stores in another: a second
    worker taking the same checkpoint meanwhile makes the insert fail on the unique number.
    """
    async with sessions() as db:
        last = (await db.execute(select(EvidenceCheckpoint).order_by(EvidenceCheckpoint.number.desc())
                                 .limit(1))).scalar_one_or_none()
        recorded = await _checkpointed(db)
        current = [Head(h.chain, h.seq, h.hash) for h in (await db.scalars(
            select(ChainHead).where(ChainHead.seq > 0).order_by(ChainHead.chain)))]
    changed = [head for head in current if recorded.get(head.chain) != head]
    if not changed:
        return None
    prev_digest = last.digest if last else GENESIS
    digest = checkpoint_digest(prev_digest, changed)
    token = await stamp(bytes.fromhex(digest))
    async with transaction(sessions) as db:
        checkpoint = EvidenceCheckpoint(number=(last.number if last else 0) + 1, taken_at=now or utcnow(),
                                        prev_digest=prev_digest, digest=digest, heads=len(changed),
                                        token_der=token.token, gen_time=token.gen_time,
                                        tsa_name=token.tsa_name)
        db.add(checkpoint)
        await db.flush()
        db.add_all(CheckpointHead(checkpoint_id=checkpoint.id, chain=h.chain, seq=h.seq, hash=h.hash)
                   for h in changed)
    _export(export_dir, checkpoint, changed)
    return checkpoint


def _export(directory: Path, checkpoint: EvidenceCheckpoint, heads: list[Head]) -> None:
    """The checkpoint as a file anyone can check with the module docstring and a TSA's root."""
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "number": checkpoint.number, "taken_at": instant_text(checkpoint.taken_at),
        "prev_digest": checkpoint.prev_digest, "digest": checkpoint.digest,
        "heads": [[h.chain, h.seq, h.hash] for h in sorted(heads, key=lambda h: h.chain)],
        "timestamp_token": base64.b64encode(checkpoint.token_der).decode(),
    }
    target = directory / f"{checkpoint.number:08d}.json"
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(target)


async def verify(db: AsyncSession, trust: TrustSettings, export_dir: Path) -> list[str]:
    """What is wrong with the checkpoints or with the events they recorded (Chinese, for the
    operator and a court's expert); empty when everything holds."""
    problems: list[str] = []
    prev, expected = GENESIS, 1
    recorded: dict[str, tuple[int, Head]] = {}
    checkpoints = (await db.scalars(select(EvidenceCheckpoint).order_by(EvidenceCheckpoint.number))).all()
    for checkpoint in checkpoints:
        if checkpoint.number != expected:
            problems.append(f"第 {expected} 至 {checkpoint.number - 1} 号检查点缺失")
        expected = checkpoint.number + 1
        heads = [Head(h.chain, h.seq, h.hash) for h in (await db.scalars(
            select(CheckpointHead).where(CheckpointHead.checkpoint_id == checkpoint.id)))]
        if checkpoint.prev_digest != prev or checkpoint_digest(prev, heads) != checkpoint.digest:
            problems.append(f"第 {checkpoint.number} 号检查点的内容与其摘要不符")
        try:
            await async_verify_timestamp(checkpoint.token_der, bytes.fromhex(checkpoint.digest), trust)
        except SigningError:
            problems.append(f"第 {checkpoint.number} 号检查点的时间戳无效或不对应其摘要")
        prev = checkpoint.digest
        recorded.update({head.chain: (checkpoint.number, head) for head in heads})
    for chain, (number, head) in sorted(recorded.items()):
        found = (await db.execute(select(EvidenceEvent.hash).where(
            EvidenceEvent.chain == chain, EvidenceEvent.seq == head.seq))).scalar_one_or_none()
        if found is None:
            problems.append(f"证据链 {chain} 第 {head.seq} 条事件已被删除（第 {number} 号检查点记录过）")
        elif found != head.hash:
            problems.append(f"证据链 {chain} 第 {head.seq} 条事件已被改写"
                            f"（与第 {number} 号检查点记录的哈希不符）")
    problems += _exported_problems(export_dir, {c.number: c.digest for c in checkpoints})
    return problems


def _exported_problems(directory: Path, digests: dict[int, str]) -> list[str]:
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not files:
        return []
    newest = json.loads(files[-1].read_text(encoding="utf-8"))
    if digests.get(int(newest["number"])) != newest["digest"]:
        return [f"导出文件中的第 {newest['number']} 号检查点在数据库中缺失或不同"]
    return []
