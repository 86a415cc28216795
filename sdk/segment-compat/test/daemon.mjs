// A real tinycrmd for the test: the same helper the tinycrm-sdk tests use
// (built from this repository unless TINYCRMD names a binary, started on a
// free port with a fresh managed-PostgreSQL data dir, stopped with SIGTERM).
export { admin, startDaemon } from "../../js/test/daemon.mjs";
