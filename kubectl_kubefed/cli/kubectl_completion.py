"""``kubectl_complete-kubefed``: ``kubectl kubefed <TAB>`` in kubectl's own completion.

kubectl (1.26+) completes a plugin's words by running ``kubectl_complete-<plugin>`` with
them, the last one being the word under the cursor, and reads cobra's answer: one
candidate a line (``value<TAB>description``), then ``:<directive>``. The candidates come
from the same click command as ``kubectl kubefed completion SHELL``'s.
"""

from __future__ import annotations

import sys
from typing import Any

from typer._click.shell_completion import CompletionItem, ShellComplete

NO_FILE_COMPLETION = 4  # cobra's ShellCompDirectiveNoFileComp
DEFAULT = 0  # cobra's ShellCompDirectiveDefault: the shell completes file names


class _Cobra(ShellComplete):
    name = "cobra"
    source_template = ""

    def source_vars(self) -> dict[str, Any]:
        return {}

    def get_completion_args(self) -> tuple[list[str], str]:
        return [], ""

    def format_completion(self, item: CompletionItem) -> str:
        help_text = " ".join(str(item.help or "").split())
        return f"{item.value}\t{help_text}" if help_text else str(item.value)


def answer(words: list[str]) -> str:
    """Cobra's answer for the words after ``kubectl kubefed``."""
    from kubectl_kubefed.cli.app import COMPLETE_VAR, PROG
    from kubectl_kubefed.cli.main import command

    args, incomplete = (words[:-1], words[-1]) if words else ([], "")
    comp = _Cobra(command(), {}, PROG, COMPLETE_VAR)
    items = [i for i in comp.get_completions(args, incomplete) if i.type == "plain"]
    if not items:  # a file, a name: let the shell complete file names
        return f":{DEFAULT}\n"
    return "".join(comp.format_completion(i) + "\n" for i in items) + f":{NO_FILE_COMPLETION}\n"


def main() -> None:
    try:
        sys.stdout.write(answer(sys.argv[1:]))
    except Exception:  # never break the user's shell: fall back to file names
        sys.stdout.write(f":{DEFAULT}\n")
