"""Every room's public names in one namespace, for the fixture tests
(tests/report/) and interactive use. Importing it reads bench/lines.json."""

from .base import (
    ROOT, ReportError, load_json, load_json_or_none, read_kv, write_text)
from .lines import (
    LINES_FILE, PROGRAMS, KINDS, WHERE, load_lines, LINES, BY_ID, C_LINES, VAR_LINES, DESIGN_LINES,
    REF_LINES, PY_LINES, ALL_LINES, PY_FILES, VAR_ARGS, LINE_ARGS, LINE_PROG, COLOR, MARKER,
    CURL_MAX_PARALLEL, show, max_m)
from .stats import (
    ALPHA, MIN_RATIO, BOOT_RESAMPLES, BOOT_SEED, PCTS, median, percentile, quartiles, mann_whitney,
    bootstrap_ratio_ci, compare, fmt_p, spread, version_compare)
from .scenarios import (
    count_codes, scenario_codes, server_args, tls_resume, resolve, OUTPUT_DIRS, output_dir,
    shell_assignments, curl_config, settings_mismatch, tls_settings_mismatch, fmt_range,
    old_scenario, libcurl8_scenarios)
from .raw import (
    read_facts, read_records, read_latencies, load_new_point, load_old_points, read_meta,
    read_meta_txt, scenario_names)
from .validity import (
    STATS_HANDSHAKES, tls_point)
from .points import (
    reduce_point, not_run_point, load_scenario_points, public_point)
from .verdicts import (
    VS_CURL_MIN_RUNS, pair_verdicts, mrange, crossover, claim_text, best_designs,
    best_design_sentence, vs_curl, vs_curl_text, second_core_sentence)
from .text import (
    f, pct, fmt_count, status_text, table, tls_header, tls_cells, tls_table_note, verdict_sentences,
    python_tables, vs_curl_lines, save_fs_line)
from .plots import (
    latency_m, latency_curve, write_plot_data, GP_HEAD)
from .reportmd import (
    scenario_section, cmd_report, LIBCURL8_DIR, libcurl_rows, libcurl_section)
from .cli import (
    cmd_compare, cmd_more_runs, cmd_point_line, cmd_check_server, cmd_budget, main)

__all__ = [
    "ROOT", "ReportError", "load_json", "load_json_or_none", "read_kv", "write_text", "LINES_FILE",
    "PROGRAMS", "KINDS", "WHERE", "load_lines", "LINES", "BY_ID", "C_LINES", "VAR_LINES",
    "DESIGN_LINES", "REF_LINES", "PY_LINES", "ALL_LINES", "PY_FILES", "VAR_ARGS", "LINE_ARGS",
    "LINE_PROG", "COLOR", "MARKER", "CURL_MAX_PARALLEL", "show", "max_m", "ALPHA", "MIN_RATIO",
    "BOOT_RESAMPLES", "BOOT_SEED", "PCTS", "median", "percentile", "quartiles", "mann_whitney",
    "bootstrap_ratio_ci", "compare", "fmt_p", "spread", "version_compare", "count_codes",
    "scenario_codes", "server_args", "tls_resume", "resolve", "OUTPUT_DIRS", "output_dir",
    "shell_assignments", "curl_config", "settings_mismatch", "tls_settings_mismatch", "fmt_range",
    "old_scenario", "libcurl8_scenarios", "read_facts", "read_records", "read_latencies",
    "load_new_point", "load_old_points", "read_meta", "read_meta_txt", "scenario_names",
    "STATS_HANDSHAKES", "tls_point", "reduce_point", "not_run_point", "load_scenario_points",
    "public_point", "VS_CURL_MIN_RUNS", "pair_verdicts", "mrange", "crossover", "claim_text",
    "best_designs", "best_design_sentence", "vs_curl", "vs_curl_text", "second_core_sentence", "f",
    "pct", "fmt_count", "status_text", "table", "tls_header", "tls_cells", "tls_table_note",
    "verdict_sentences", "python_tables", "vs_curl_lines", "save_fs_line", "latency_m",
    "latency_curve", "write_plot_data", "GP_HEAD", "scenario_section", "cmd_report", "LIBCURL8_DIR",
    "libcurl_rows", "libcurl_section", "cmd_compare", "cmd_more_runs", "cmd_point_line",
    "cmd_check_server", "cmd_budget", "main"]
