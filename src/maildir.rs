//! Maildir filing: unique name, create in `tmp/` with O_EXCL and O_NOFOLLOW, write, fsync,
//! rename into `new/`, fsync `new/`. Maildir++ folders created on demand with mode 0700.
