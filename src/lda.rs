//! The delivery pipeline, one call per step, read top to bottom:
//! envelope -> privileges -> read -> file -> classify -> record -> log -> exit code.
