-- Accounts of the demo shop.
CREATE TABLE accounts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text NOT NULL UNIQUE CHECK (email LIKE '%@%'),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
