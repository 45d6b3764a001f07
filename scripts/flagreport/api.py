"""Every room's public names in one namespace, for the fixture tests
(tests/report/) and interactive use. Importing it reads bench/lines.json."""

from .base import (
    ROOT, ReportError, load_json, load_json_or_none, read_kv, write_text, plural)
from .lines import (
    LINES_FILE, PROGRAMS, KINDS, WHERE, load_lines, LINES, BY_ID, C_LINES, VAR_LINES, DESIGN_LINES,
    REF_LINES, PY_LINES, ALL_LINES, PY_FILES, VAR_ARGS, LINE_ARGS, LINE_PROG, COLOR, MARKER,
    CURL_MAX_PARALLEL, show, max_m)
from .stats import (
    ALPHA, MIN_RATIO, BOOT_RESAMPLES, BOOT_SEED, PCTS, median, percentile, quartiles, mann_whitney,
    bootstrap_ratio_ci, min_p, too_few, compare, untested, fmt_p, spread, version_compare, POWER,
    detectable_ratio, ADAPT_TARGET, ROOM_INVERSIONS, room_p, has_room, no_room, runs_for_room, roomless)
from .scenarios import (
    count_codes, dataset_codes, expected_split, scenario_codes, server_args, tls_resume, resolve,
    OUTPUT_DIRS, output_dir, shell_assignments, curl_config, settings_mismatch,
    tls_settings_mismatch, fmt_range, old_scenario, libcurl8_scenarios,
    bench_scenario_names, scenario_sets, scenario_set)
from .raw import (
    read_facts, read_records, read_latencies, load_stats, load_hyperfine, read_dataset,
    write_dataset, load_new_point, load_old_points, read_meta, read_meta_txt, scenario_names)
from .ranges import (
    RSS_MAX_KB, TIME_MAX_S, is_number, is_integer, RECORD_FIELDS, STATS_FIELDS, time_limit,
    bad_numbers)
from .validity import (
    BOUND_TOLERANCE, rule_numbers_in_range, rule_server_started, rule_batches_ran,
    rule_hyperfine_ok, rule_server_settings, rule_exit_status, rule_records_parse,
    rule_records_complete, rule_no_failed_requests, rule_libcurl_declared, rule_stats_present,
    rule_peak_within_m, rule_server_counted_requests, rule_tls_handshakes, rule_latencies_match,
    delay_min_s, bound_s, rule_not_faster_than_ideal, rule_peak_explains_elapsed,
    rule_ok_not_found_split, fmt_n, rule_bytes_match_dataset, STATS_HANDSHAKES, tls_point, RULES,
    rule_name, check)
from .points import (
    gather, reduce_point, not_run_point, RESOLVED_KEYS, check_resolved, load_resolved, expectations,
    load_scenario_points, public_point)
from .verdicts import (
    VS_CURL_MIN_RUNS, pair_verdicts, mrange, crossover, claim_text, best_designs, undetected_sentence,
    best_design_sentence, vs_curl, vs_curl_text, second_core_sentence)
from .text import (
    f, pct, fmt_count, broken_text, status_text, table, tls_header, tls_cells, tls_table_note,
    verdict_sentences, python_tables, vs_curl_lines, save_fs_line)
from .placement import (
    PLACEMENTS, SPLIT_SUFFIX, SERVER_SHARE, placement_setting, parse_cpus, fmt_cpus, split_cpus,
    cpu_split_assignments, read_placement, read_cpu_records, want_sets, rule_placement_cpus, server_cpus_broken,
    placement_line, placement_text, placement_pairs, placement_rows, placement_section)
from .plots import (
    latency_m, latency_curve, log_tics, write_plot_data, GP_HEAD)
from .reportmd import (
    scenario_section, cmd_report, LIBCURL8_DIR, libcurl_rows, libcurl_section)
from .cli import (
    cmd_compare, cmd_more_runs, cmd_point_line, cmd_m_done, cmd_check_server, cmd_budget, main)

__all__ = [
    "ROOT", "ReportError", "load_json", "load_json_or_none", "read_kv", "write_text", "plural",
    "LINES_FILE", "PROGRAMS", "KINDS", "WHERE", "load_lines", "LINES", "BY_ID", "C_LINES",
    "VAR_LINES", "DESIGN_LINES", "REF_LINES", "PY_LINES", "ALL_LINES", "PY_FILES", "VAR_ARGS",
    "LINE_ARGS", "LINE_PROG", "COLOR", "MARKER", "CURL_MAX_PARALLEL", "show", "max_m", "ALPHA",
    "MIN_RATIO", "BOOT_RESAMPLES", "BOOT_SEED", "PCTS", "median", "percentile", "quartiles",
    "mann_whitney", "bootstrap_ratio_ci", "min_p", "too_few", "compare", "untested", "fmt_p",
    "POWER", "detectable_ratio", "ADAPT_TARGET", "ROOM_INVERSIONS", "room_p", "has_room", "no_room",
    "runs_for_room", "roomless", "undetected_sentence",
    "spread", "version_compare", "count_codes", "dataset_codes", "expected_split", "scenario_codes",
    "server_args", "tls_resume", "resolve", "OUTPUT_DIRS", "output_dir", "shell_assignments",
    "curl_config", "settings_mismatch", "tls_settings_mismatch", "fmt_range", "old_scenario",
    "libcurl8_scenarios", "bench_scenario_names", "scenario_sets", "scenario_set", "read_facts", "read_records", "read_latencies", "load_stats",
    "load_hyperfine", "read_dataset", "write_dataset", "load_new_point", "load_old_points",
    "read_meta", "read_meta_txt", "scenario_names", "RSS_MAX_KB", "TIME_MAX_S", "is_number",
    "is_integer", "RECORD_FIELDS", "STATS_FIELDS", "time_limit", "bad_numbers", "BOUND_TOLERANCE",
    "rule_numbers_in_range", "rule_server_started", "rule_batches_ran", "rule_hyperfine_ok",
    "rule_server_settings", "rule_exit_status", "rule_records_parse", "rule_records_complete",
    "rule_no_failed_requests", "rule_libcurl_declared", "rule_stats_present", "rule_peak_within_m",
    "rule_server_counted_requests", "rule_tls_handshakes", "rule_latencies_match", "delay_min_s",
    "bound_s", "rule_not_faster_than_ideal", "rule_peak_explains_elapsed",
    "rule_ok_not_found_split", "fmt_n", "rule_bytes_match_dataset", "STATS_HANDSHAKES", "tls_point",
    "RULES", "rule_name", "check", "gather", "reduce_point", "not_run_point", "RESOLVED_KEYS",
    "check_resolved", "load_resolved", "expectations", "load_scenario_points", "public_point",
    "VS_CURL_MIN_RUNS", "pair_verdicts", "mrange", "crossover", "claim_text", "best_designs",
    "best_design_sentence", "vs_curl", "vs_curl_text", "second_core_sentence", "f", "pct",
    "fmt_count", "broken_text", "status_text", "table", "tls_header", "tls_cells", "tls_table_note",
    "verdict_sentences", "python_tables", "vs_curl_lines", "save_fs_line", "latency_m",
    "latency_curve", "log_tics", "write_plot_data", "GP_HEAD", "scenario_section", "cmd_report",
    "LIBCURL8_DIR", "libcurl_rows", "libcurl_section", "cmd_compare", "cmd_more_runs",
    "cmd_point_line", "cmd_m_done", "cmd_check_server", "cmd_budget", "main",
    "PLACEMENTS", "SPLIT_SUFFIX", "SERVER_SHARE", "placement_setting", "parse_cpus", "fmt_cpus",
    "split_cpus", "cpu_split_assignments", "read_placement", "read_cpu_records", "want_sets",
    "rule_placement_cpus", "server_cpus_broken", "placement_line", "placement_text", "placement_pairs", "placement_rows",
    "placement_section"]
