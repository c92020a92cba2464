//! Storage of stores and directories (sqlx; SQLite embedded, PostgreSQL for several nodes).
