# Types of the `dockerfile` package (a C extension over BuildKit's parser, shipped without stubs): the part lint uses.
from typing import NamedTuple

class GoIOError(OSError): ...
class GoParseError(ValueError): ...

class Heredoc(NamedTuple):
    name: str
    file_descriptor: int
    content: str

class Command(NamedTuple):
    cmd: str
    sub_cmd: str | None
    json: bool
    original: str
    start_line: int
    end_line: int
    flags: tuple[str, ...]
    value: tuple[str, ...]
    heredocs: tuple[Heredoc, ...]

def parse_string(s: str) -> tuple[Command, ...]: ...
def parse_file(filename: str) -> tuple[Command, ...]: ...
