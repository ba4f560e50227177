#!/usr/bin/env python3
"""Makes the edited-GGUF goldens in Fixtures/gguf/ with gguf-py (pip install gguf; made with 0.19.0).

Each golden is Fixtures/gguf/small.gguf or small-align64.gguf with its metadata edited and its tensors copied, as
gguf-py writes it. Tests/ModelFilesTests/GGUFEditTests.swift and Tests/CLITests/EditTests.swift make the same edits
with qwenkit and compare bytes: change both together.

  small-edit-newmeta.gguf     gguf-py's own tool, gguf_new_metadata.py, on small.gguf:
                              --remove-metadata test.u16s --chat-template-file edit-template.jinja
                              --general-name "Edited ✓"
  small-edit-typed.gguf       small.gguf edited by copy_with_edits() below (the EDITS_TYPED list): values of
                              several types set in place, a type changed in place, two keys deleted, three appended
                              (one is general.alignment = 64, so the data section is laid out again)
  small-align64-edit-align8.gguf  small-align64.gguf with general.alignment set to 8 in place

copy_with_edits() is gguf_new_metadata.py's copy loop (GGUFReader fields -> GGUFWriter.add_key_value, tensors
through add_tensor_info / write_tensor_data) with qwenkit's edit rules: a set key keeps its place, a new key is
appended, and the writer's data alignment follows general.alignment. It is checked first: copying without edits
must give the input back byte for byte.

Run from the repository root: python3 Fixtures/scripts/make_gguf_edit_fixtures.py
"""
import hashlib
import importlib.metadata
import os
import subprocess
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGUFValueType as T

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gguf")
TEMPLATE = os.path.join(DIR, "edit-template.jinja")
TEMPLATE_TEXT = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# (operation, key, type, value), applied in order. "set" with type None keeps the key's current type.
EDITS_TYPED = [
    ("set", "test.u8", None, 7),
    ("set", "test.i64", None, -1),
    ("set", "test.f32", None, 0.1),               # packed as float32 from a Python float (a double)
    ("set", "test.bool", None, False),
    ("set", "test.string", None, "changé"),
    ("delete", "test.i8", None, None),
    ("delete", "test.strings", None, None),
    ("set", "test.u16", T.UINT32, 70000),         # UINT16 -> UINT32, in place
    ("set", "general.alignment", T.UINT32, 64),   # new: appended; data re-laid out at 64
    ("set", "test.new_u64", T.UINT64, 2**63),
    ("set", "test.new_bool", T.BOOL, True),
]
EDITS_ALIGN8 = [("set", "general.alignment", None, 8)]


def copy_with_edits(src, dst, edits):
    reader = gguf.GGUFReader(src)
    entries = []  # [key, type, value, sub_type], in file order
    for field in reader.fields.values():
        if field.name.startswith("GGUF."):  # the reader's virtual fields (header counts)
            continue
        vtype = field.types[0]
        entries.append([field.name, vtype, field.contents(), field.types[-1] if vtype == T.ARRAY else None])
    for op, key, vtype, value in edits:
        index = next((i for i, e in enumerate(entries) if e[0] == key), None)
        if op == "delete":
            del entries[index]
        elif index is not None:
            entries[index][1:] = [vtype or entries[index][1], value, None]
        else:
            entries.append([key, vtype, value, None])

    writer = gguf.GGUFWriter(dst, arch="unused")
    writer.kv_data[0].clear()  # the constructor adds general.architecture first; keep the file's order instead
    for key, vtype, value, sub_type in entries:
        writer.add_key_value(key, value, vtype, sub_type=sub_type)
        if key == gguf.Keys.General.ALIGNMENT:
            writer.data_alignment = value
    for tensor in reader.tensors:
        writer.add_tensor_info(tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes,
                               tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in reader.tensors:
        writer.write_tensor_data(tensor.data)
    writer.close()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def report(name):
    blob = read(os.path.join(DIR, name))
    print(f"{name}  {len(blob)} bytes  sha256 {hashlib.sha256(blob).hexdigest()}")


if __name__ == "__main__":
    print(f"gguf-py {importlib.metadata.version('gguf')}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    small, small64 = os.path.join(DIR, "small.gguf"), os.path.join(DIR, "small-align64.gguf")

    with tempfile.TemporaryDirectory() as tmp:
        for src in (small, small64):
            out = os.path.join(tmp, "copy.gguf")
            copy_with_edits(src, out, [])
            assert read(out) == read(src), f"copy_with_edits does not reproduce {src}"

    with open(TEMPLATE, "w", encoding="utf-8", newline="") as f:
        f.write(TEMPLATE_TEXT)
    report("edit-template.jinja")

    subprocess.run([sys.executable, "-m", "gguf.scripts.gguf_new_metadata", small,
                    os.path.join(DIR, "small-edit-newmeta.gguf"), "--force",
                    "--remove-metadata", "test.u16s", "--chat-template-file", TEMPLATE,
                    "--general-name", "Edited ✓"], check=True)
    report("small-edit-newmeta.gguf")

    copy_with_edits(small, os.path.join(DIR, "small-edit-typed.gguf"), EDITS_TYPED)
    report("small-edit-typed.gguf")

    copy_with_edits(small64, os.path.join(DIR, "small-align64-edit-align8.gguf"), EDITS_ALIGN8)
    report("small-align64-edit-align8.gguf")
