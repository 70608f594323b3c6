"""`invoke lint`: static validation of Dockerfiles, build contexts, the compose file and setup scripts.

Facts are gathered once, in parallel (hadolint, one BuildKit context export per build context, `compose config`);
every rule is a pure function of parsed input that returns rows (ok / warn / fail) naming file:line and the fix.
"""

from .compose_rules import ComposeFacts, check_compose, may_share_a_network, probed_urls
from .contexts import BASE_CONTEXT_BUDGET, SERVICE_CONTEXT_BUDGET, BuildContext, build_contexts, check_context_sent, check_dockerignore
from .dockerfile import (
    Dockerfile,
    Instruction,
    Stage,
    build_tools,
    image_tag,
    installed_packages,
    is_pinned,
    parse_arg,
    parse_dockerfile,
    resolve_image,
    stage_ancestry,
)
from .dockerfile_rules import check_from_lines, check_ignore_reasons, check_runtime_tools, check_stages, check_syntax_line
from .gather import gather_compose, lint, run_lint, sent_files
from .hadolint import HadolintFinding, check_hadolint, hadolint_binary, parse_hadolint_json, run_hadolint
from .paths import find_dockerfiles
from .scripts import check_setup_scripts, is_shell_script, setup_installs

__all__ = [
    "BASE_CONTEXT_BUDGET",
    "SERVICE_CONTEXT_BUDGET",
    "BuildContext",
    "ComposeFacts",
    "Dockerfile",
    "HadolintFinding",
    "Instruction",
    "Stage",
    "build_contexts",
    "build_tools",
    "check_compose",
    "check_context_sent",
    "check_dockerignore",
    "check_from_lines",
    "check_hadolint",
    "check_ignore_reasons",
    "check_runtime_tools",
    "check_setup_scripts",
    "check_stages",
    "check_syntax_line",
    "find_dockerfiles",
    "gather_compose",
    "hadolint_binary",
    "image_tag",
    "installed_packages",
    "is_pinned",
    "is_shell_script",
    "lint",
    "may_share_a_network",
    "parse_arg",
    "parse_dockerfile",
    "parse_hadolint_json",
    "probed_urls",
    "resolve_image",
    "run_hadolint",
    "run_lint",
    "sent_files",
    "setup_installs",
    "stage_ancestry",
]
