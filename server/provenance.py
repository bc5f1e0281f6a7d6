"""C2PA Content Credentials of an evidence file: camera-signed, edited, invalid or none.

Some phones (and camera apps) embed a C2PA manifest in the photo or video they record: a
claim signed with the device maker's certificate, binding a hash of the file's bytes, with
the actions done to it (``c2pa.created`` by the camera; ``c2pa.edited``,
``c2pa.color_adjustments``, ... by an editor) and the files it was made from
(ingredients). :func:`check` reads and validates that manifest with the reference library
(c2pa-python, the bindings of the Content Authenticity Initiative's c2pa-rs) and says:

* ``none``: no Content Credentials (most photos): normal, not suspicious.
* ``signed``: camera-signed, unedited: the signature and the hash binding validate, the
  only action is the capture (``c2pa.created``, from a camera source type or none given),
  there are no ingredients, and the signer's certificate chains to the trust list.
* ``untrusted``: as ``signed``, but the signer's certificate does not chain to the trust
  list: "signed by <name>, not on the trust list", never "camera-signed".
* ``edited``: the signature and hash binding validate, but the manifest records edits,
  ingredients, or a source that is not a camera (e.g. ``trainedAlgorithmicMedia``).
* ``invalid``: validation failed (e.g. ``assertion.dataHash.mismatch`` after a byte of the
  file changed), or the manifest cannot be read at all (a truncated or garbled manifest, a
  reader that crashed or ran out of time or memory).

Trust: the operator names a trust list (``C2PA_TRUST_ANCHORS``, a PEM file of CA
certificates: the C2PA trust list, or a unit's own CA), given to the library as its trust
anchors. A signer counts as a camera maker only when the library validates its
certificate chain to one of them (``validation_state`` ``Trusted``); without a list
nobody does. ``signingCredential.untrusted`` alone does not make a file invalid:
integrity-wise it is intact, shown as ``untrusted`` with the signer's name and issuer,
so a reviewer sees *who* signed, not a verdict on whether to believe them.
``detail["trusted"]`` records the outcome.

Bounds: the library is native code, and a crafted file must not hang or bloat a worker.
:func:`check` runs the reader in a child process (this file run as a script) with an
address-space and CPU limit and a wall-clock timeout; a timeout or crash is ``invalid``
with a code ``roadwatch.*``. Only the types the library supports and RoadWatch accepts
are checked, and only files that contain the manifest store's JUMBF label ``c2pa`` at all
go to the child (a plain photo costs one scan of its bytes). Remote manifests and OCSP are
never fetched: the check is offline.

Pure apart from the child process: a path and a content type in, a :class:`Provenance` out;
no Flask, no database. :func:`classify` (the manifest store's JSON to a result) is pure.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CHECKED_TYPES",
    "NONE",
    "STATUSES",
    "Provenance",
    "check",
    "classify",
    "read",
]

log = logging.getLogger(__name__)

STATUSES = ("none", "signed", "untrusted", "edited", "invalid")

# Accepted types (sync/content_types.py) that c2pa-rs reads; WebM has no C2PA binding.
CHECKED_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/heic", "image/heif", "video/mp4", "video/quicktime"}
)

TIMEOUT_S = 10.0  # wall clock for one file, well inside gunicorn's 30 s worker timeout
MEMORY_BYTES = 1 << 30  # address space of the child process
_NO_LIBRARY = 3  # the child's exit status when c2pa-python cannot be imported

# The label of the manifest store's JUMBF superbox: every embedded manifest contains it.
MARKER = b"c2pa"

# Failure codes about trust, not integrity: the signer (or time-stamp authority) is not on
# a trust list, which is always the case here (none is configured).
TRUST_CODES = frozenset({"signingCredential.untrusted", "timeStamp.untrusted"})

# Actions that are the capture itself; anything else is an edit.
CAPTURE_ACTIONS = frozenset({"c2pa.created"})
# IPTC digital source types of a camera capture (the last part of the URI).
CAPTURE_SOURCES = frozenset(
    {"digitalCapture", "computationalCapture", "negativeFilm", "positiveFilm", "print"}
)

_MAX_TEXT = 200  # characters kept of any string the file supplied
_MAX_ITEMS = 20  # entries kept of any list the file supplied

# Library settings: validate offline.
_READER_SETTINGS = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}


@dataclass(frozen=True)
class Provenance:
    """The outcome: one of :data:`STATUSES`, and what the manifest says (None: none)."""

    status: str
    detail: dict[str, Any] | None = None


NONE = Provenance("none")


def check(
    path: str | os.PathLike[str],
    content_type: str,
    *,
    timeout: float = TIMEOUT_S,
    memory_bytes: int = MEMORY_BYTES,
    trust_anchors: str | None = None,
) -> Provenance | None:
    """The Content Credentials of the file at ``path``, read in a bounded child process.

    None when the file is not checked: a type the library does not read, or the library
    is not installed (logged). Never raises for the file's contents.
    """
    if content_type not in CHECKED_TYPES:
        return None
    try:
        if not _has_marker(Path(path)):
            return NONE
    except OSError:
        log.warning("provenance: the stored file cannot be read", exc_info=True)
        return None
    argv = [sys.executable, "-I", str(Path(__file__).resolve()), str(path), content_type]
    argv += [str(memory_bytes), str(max(1, int(timeout + 0.999))), trust_anchors or ""]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        log.warning("provenance: the C2PA reader timed out after %g s", timeout)
        return _failed("roadwatch.timeout")
    if done.returncode == _NO_LIBRARY:
        log.error("provenance: c2pa-python is not installed; files are not checked")
        return None
    if done.returncode != 0:
        log.warning("provenance: the C2PA reader ended with status %s", done.returncode)
        return _failed("roadwatch.reader_crashed")
    try:
        out = json.loads(done.stdout)
        result = Provenance(out["status"], out["detail"])
    except (ValueError, KeyError, TypeError):
        return _failed("roadwatch.reader_crashed")
    if result.status not in STATUSES:
        return _failed("roadwatch.reader_crashed")
    return result


def read(
    path: str | os.PathLike[str], content_type: str, trust_anchors: str | None = None
) -> Provenance:
    """Read and validate the file's manifest in this process (the child's work; tests).

    The library's errors (a manifest that cannot be parsed, an unsupported or broken
    container) are ``invalid``; no manifest at all is :data:`NONE`.
    """
    import c2pa  # imported here: the parent process never loads the native library

    settings: dict[str, Any] = {"verify": dict(_READER_SETTINGS["verify"])}
    pem = _trust_list(trust_anchors) if trust_anchors else None
    if pem is not None:
        settings["trust"] = {"trust_anchors": pem}
        settings["verify"]["verify_trust"] = True
    try:
        context = c2pa.Context.from_dict(settings)
        with open(path, "rb") as stream:
            reader = c2pa.Reader.try_create(content_type, stream, None, context)
            if reader is None:
                return NONE
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        kind = type(exc).__name__.lstrip("_").removeprefix("C2pa") or "Error"
        return _failed(f"c2pa.{kind}", message=str(exc))
    except ValueError as exc:  # the library's JSON, or a bad argument: still not valid
        return _failed("roadwatch.unreadable_manifest", message=str(exc))
    return classify(store)


def _trust_list(path: str) -> str | None:
    """The PEM certificates of the trust list file; None (logged: nobody is trusted) when
    it cannot be read or holds no certificate: the operator's mistake, not the file's."""
    from cryptography import x509

    try:
        data = Path(path).read_bytes()
        if not x509.load_pem_x509_certificates(data):
            raise ValueError("no certificate")
        return data.decode("ascii")
    except (OSError, ValueError, UnicodeDecodeError):
        log.error("provenance: C2PA_TRUST_ANCHORS %s holds no certificate: nobody is trusted", path)
        return None


def classify(store: dict[str, Any]) -> Provenance:
    """The result for a manifest store as the library reports it (``Reader.json()``):
    ``signed`` only when the library found the signer on the trust list (``Trusted``)."""
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest") or "")
    state = store.get("validation_state")
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    if "failure" in results:
        failures = [c.get("code") for c in results.get("failure") or []]
    else:
        failures = [c.get("code") for c in store.get("validation_status") or []]
    codes = sorted({_text(c) for c in failures if c})
    if not isinstance(active, dict):
        return _failed("roadwatch.no_active_manifest", state=state, codes=codes)

    signature = active.get("signature_info") or {}
    actions = _actions(active)
    source = _source_type(active)
    ingredients = active.get("ingredients") or []
    detail: dict[str, Any] = {
        "state": _text(state),
        "trusted": state == "Trusted",
        "claim_generator": _generator(active),
        "signer": _text(signature.get("common_name")),
        "issuer": _text(signature.get("issuer")),
        "signed_at": _text(signature.get("time")),
        "source_type": source,
        "actions": actions[:_MAX_ITEMS],
        "ingredients": len(ingredients) if isinstance(ingredients, list) else 0,
        "codes": codes[:_MAX_ITEMS],
    }
    if state not in ("Valid", "Trusted") or set(codes) - TRUST_CODES:
        return Provenance("invalid", detail)
    edited = (
        detail["ingredients"] > 0
        or any(a not in CAPTURE_ACTIONS for a in actions)
        or (source is not None and source not in CAPTURE_SOURCES)
    )
    if edited:
        return Provenance("edited", detail)
    return Provenance("signed" if detail["trusted"] else "untrusted", detail)


# --- helpers --------------------------------------------------------------------------


def _failed(code: str, *, message: str | None = None, **more: Any) -> Provenance:
    detail: dict[str, Any] = {"codes": [code], **more}
    if message:
        detail["error"] = _text(message)
    return Provenance("invalid", detail)


def _text(value: Any) -> str | None:
    """A string from the file, cut to a sane length (None stays None)."""
    if value is None:
        return None
    return str(value)[:_MAX_TEXT]


def _action_entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for assertion in manifest.get("assertions") or []:
        if not isinstance(assertion, dict):
            continue
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            if isinstance(action, dict):
                entries.append(action)
    return entries


def _actions(manifest: dict[str, Any]) -> list[str]:
    return [_text(a.get("action")) or "" for a in _action_entries(manifest)]


def _source_type(manifest: dict[str, Any]) -> str | None:
    """The digital source type of the capture action, its last URI part (or None)."""
    for action in _action_entries(manifest):
        if action.get("action") == "c2pa.created" and action.get("digitalSourceType"):
            return _text(str(action["digitalSourceType"]).rstrip("/").rsplit("/", 1)[-1])
    return None


# Digital source types (IPTC) of media a generative model made, wholly or in part: the
# console labels such a file as AI-generated, not only "edited" (issue 26).
AI_SOURCES = frozenset(
    {"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia"}
)


def ai_generated(detail: dict[str, Any] | None) -> bool:
    """Whether a file's Content Credentials say a generative model made it."""
    return bool(detail) and (detail or {}).get("source_type") in AI_SOURCES


def _generator(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        name, version = info[0].get("name"), info[0].get("version")
        return _text(" ".join(str(p) for p in (name, version) if p)) or None
    return _text(manifest.get("claim_generator"))


def _has_marker(path: Path) -> bool:
    """Whether the file contains the manifest store label at all (no copy of the file)."""
    with path.open("rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return view.find(MARKER) != -1


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _main(argv: list[str]) -> int:
    """The child: ``provenance.py PATH CONTENT_TYPE MEMORY_BYTES CPU_SECONDS ANCHORS``
    (ANCHORS: the trust list's PEM file or ""); prints the result as JSON."""
    path, content_type, memory_bytes, cpu_seconds, anchors = argv
    _limit(int(memory_bytes), int(cpu_seconds))
    try:
        import c2pa  # noqa: F401
    except ImportError:
        return _NO_LIBRARY
    result = read(path, content_type, anchors or None)
    sys.stdout.write(json.dumps({"status": result.status, "detail": result.detail}))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
