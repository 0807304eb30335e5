"""Text that Terraform must read back exactly as written.

Terraform reads every string of its JSON syntax as a template: `${...}` is an interpolation
and `%{...}` a directive, so a literal value holding either would be evaluated (or refused:
"Reference to undeclared input variable", "Invalid template control keyword"). Doubling the
first character, `$${` and `%%{`, is the template syntax's escape for them, and nothing else
in a string changes meaning. Standard library only.
"""

from __future__ import annotations


def terraform_literal(text: str) -> str:
    """`text` escaped so that Terraform's template reading gives `text` back."""
    return text.replace("${", "$${").replace("%{", "%%{")


def literal_text(literal: str) -> str:
    """The text Terraform reads `literal` (written by `terraform_literal`) as, and AWS gets: a
    construct measures a value's size on it. An interpolation in it stays as written."""
    return literal.replace("%%{", "%{").replace("$${", "${")
