"""How the suite's own requests name themselves, so no figure or excerpt mistakes them for the platform's users.

Every probe, load run (load/locustfile.py) and API scan sends one of these User-Agent prefixes; every database
session opens with one of these application names (pg_stat_activity's).
"""

PROBE_AGENT = "opscheck-probe/"
LOAD_AGENT = "opscheck-load/"
SCAN_AGENT = "opscheck-scan/"
SUITE_AGENTS = (PROBE_AGENT, LOAD_AGENT, SCAN_AGENT)
# schemathesis's capability probes (GET /schemathesis-probe…) ignore the scan's -H and send their own agent: no
# user of the platform either, so traffic figures leave them out too (the threat checks judge them as anyone's).
SCAN_TOOL_AGENT = "schemathesis/"
NOT_USERS = (*SUITE_AGENTS, SCAN_TOOL_AGENT)
DB_SESSION = "opscheck"
DRILL_SESSION = "opscheck drill"
SUITE_SESSIONS = (DB_SESSION, DRILL_SESSION)
