// The system SQLite, plus non-variadic wrappers for the configuration calls Swift cannot import.
#ifndef FLUXFLEET_CSQLITE_SHIM_H
#define FLUXFLEET_CSQLITE_SHIM_H

#include <sqlite3.h>

/// sqlite3_db_config(db, op, onoff, &result) for the boolean options (SQLITE_DBCONFIG_ENABLE_FKEY,
/// SQLITE_DBCONFIG_DEFENSIVE, SQLITE_DBCONFIG_TRUSTED_SCHEMA, ...). Returns the SQLite result code;
/// `*result` receives the option's new state.
static inline int fluxfleet_sqlite3_db_config_bool(sqlite3 *db, int op, int onoff, int *result) {
    return sqlite3_db_config(db, op, onoff, result);
}

/// sqlite3_config(SQLITE_CONFIG_MEMSTATUS, onoff): must run before the library is initialised.
static inline int fluxfleet_sqlite3_config_memstatus(int onoff) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, onoff);
}

/// SQLITE_TRANSIENT: SQLite copies the bound bytes before the call returns.
static inline sqlite3_destructor_type fluxfleet_sqlite3_transient(void) {
    return SQLITE_TRANSIENT;
}

#endif
