"""JUnit XML for CI systems: one test suite per variant, one test case per property."""
from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from bufring.checker.verdict import Status
from bufring.specs.catalog import Kind


def write_junit(path: str | Path, checks) -> None:
    """Violated -> failure; unknown or engines disagreeing -> error; vacuous or
    unreached -> skipped (with why); informational findings pass, with a note."""
    root = ET.Element("testsuites", name="bufring")
    for chk in checks:
        suite = ET.SubElement(root, "testsuite", name=f"bufring.{chk.variant.name}",
                              tests=str(len(chk.verdicts)))
        counts = {"failures": 0, "errors": 0, "skipped": 0}
        for v in chk.verdicts:
            case = ET.SubElement(suite, "testcase", classname=f"bufring.{chk.variant.name}",
                                 name=v.property)
            text = v.message + (f" (trace: {v.trace})" if v.trace else "")
            if v.status is Status.VIOLATED and v.kind is not Kind.INFORMATIONAL:
                ET.SubElement(case, "failure", message=text, type="violated")
                counts["failures"] += 1
            elif v.status is Status.UNKNOWN or v.disagreement:
                ET.SubElement(case, "error", message=text, type="unknown")
                counts["errors"] += 1
            elif v.status in (Status.VACUOUS, Status.UNREACHED):
                ET.SubElement(case, "skipped", message=f"{v.status.value}: {text}")
                counts["skipped"] += 1
            elif v.kind is Kind.INFORMATIONAL:
                ET.SubElement(case, "system-out").text = text
        for key, n in counts.items():
            suite.set(key, str(n))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
