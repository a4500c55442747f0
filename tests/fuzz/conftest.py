"""Report what the differential fuzzer checked at the end of the session."""

from .check import STATS, TORCH_WRONG


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not STATS["programs"]:
        return
    tr = terminalreporter
    tr.section("differential fuzzer (autojac vs PyTorch)")
    tr.write_line(f"{STATS['programs']} random programs run")
    for key, n in sorted(STATS.items()):
        if key != "programs":
            tr.write_line(f"  {key}: {n}")
    if TORCH_WRONG:
        tr.write_line(f"  ops in the programs where torch was wrong: {dict(TORCH_WRONG.most_common(8))}")
