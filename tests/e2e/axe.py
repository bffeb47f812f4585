"""axe-core injected by hand: pinned version, works under a strict CSP, French messages."""

import json
from pathlib import Path

VENDOR = Path(__file__).parent / "vendor"
AXE_SOURCE = (VENDOR / "axe-core-4.14.1.min.js").read_text(encoding="utf-8")
AXE_FR = json.loads((VENDOR / "axe-core-4.14.1.fr.json").read_text(encoding="utf-8"))
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page, tags=WCAG_21_AA):
    """Run axe on the page as it is now (again after an htmx swap); return the violations."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)  # through the DevTools protocol: the CSP does not apply
        page.evaluate("locale => axe.configure({ locale })", AXE_FR)
    options = {"runOnly": {"type": "tag", "values": tags}, "resultTypes": ["violations"]}
    return page.evaluate("o => axe.run(document, o)", options)["violations"]


def format_violations(violations):
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}")
    return "\n".join(lines)


def assert_accessible(page):
    violations = axe_violations(page)
    assert not violations, "\n" + format_violations(violations)
