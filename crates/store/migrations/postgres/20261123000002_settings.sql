-- City-wide settings (the city's local-government code, its name, …) as
-- key/value text: few rows, read at start-up.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
