"""Streamlit's websocket message classes, built from the protocol the installed Streamlit ships, without
importing the `streamlit` package.

The load test speaks the wire format of the server it measures, so it needs Streamlit's message types
(BackMsg, ForwardMsg, WidgetState). Loading `streamlit.proto` modules would run `streamlit/__init__` and set up a
Streamlit runtime inside the library, which keeps Streamlit to `musicgen/ui` and `pages/`. Each generated
`streamlit/proto/*_pb2.py` carries its serialized `FileDescriptorProto`; this module reads those bytes
from the files (located with `importlib.util.find_spec`, which does not import the package), adds them to a
private descriptor pool in dependency order, and makes the message classes from the pool. The bytes on the
wire are the same as Streamlit's own classes make.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_SERIALIZED = re.compile(rb"AddSerializedFile\((b'(?:[^'\\]|\\.)*')\)")


def _proto_dir() -> Path:
    spec = importlib.util.find_spec("streamlit")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("streamlit is not installed: the listening load test speaks its protocol")
    return Path(next(iter(spec.submodule_search_locations))) / "proto"


def _pool() -> descriptor_pool.DescriptorPool:
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    for path in sorted(_proto_dir().glob("*_pb2.py")):
        found = _SERIALIZED.search(path.read_bytes())
        if found is None:
            raise ImportError(f"{path} has no serialized descriptor: an unknown layout of streamlit's protocol")
        proto = descriptor_pb2.FileDescriptorProto.FromString(ast.literal_eval(found.group(1).decode("latin-1")))
        files[proto.name] = proto
    pool, added = descriptor_pool.DescriptorPool(), set()

    def add(name: str) -> None:
        if name in added:
            return
        added.add(name)
        if name not in files:  # a protobuf well-known type (google/protobuf/timestamp.proto: its _pb2 module)
            importlib.import_module(name.removesuffix(".proto").replace("/", ".") + "_pb2")
            proto = descriptor_pb2.FileDescriptorProto()
            descriptor_pool.Default().FindFileByName(name).CopyToProto(proto)
            files[name] = proto
        for dependency in files[name].dependency:
            add(dependency)
        pool.Add(files[name])

    for name in list(files):
        add(name)
    return pool


_POOL = _pool()


def message_class(full_name: str):
    """The message class of one of Streamlit's protocol messages, e.g. "BackMsg"."""
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(full_name))


BackMsg = message_class("BackMsg")
ForwardMsg = message_class("ForwardMsg")
WidgetState = message_class("WidgetState")
