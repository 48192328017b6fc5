-- OpenID Connect sign-in (booking/src/oidc). Staff are found by the email address their agency's
-- or centre's identity provider vouches for: officers already have one (0005); guides get one
-- here. Look-ups compare addresses case-insensitively within one agency or centre, hence the
-- expression indexes. The PostgreSQL migration of the same name does the same.
ALTER TABLE guides ADD COLUMN email TEXT;
CREATE INDEX officers_email ON officers (agency_id, lower(email));
CREATE INDEX guides_email ON guides (centre_id, lower(email));

-- Logins in progress, so that any control-plane instance can take the provider's redirect back.
-- The browser that started one holds a random secret in a cookie; binding_hash is its SHA-256.
-- pkce_verifier_enc: the PKCE code verifier, AES-256-GCM under the data key (with the code it
-- redeems the login). A row is taken (deleted) by the first callback that names it, so each
-- login is used once; rows of logins never finished are purged after their 10 minutes.
CREATE TABLE oidc_logins (
    binding_hash       TEXT PRIMARY KEY,
    provider           TEXT NOT NULL,
    state              TEXT NOT NULL,
    nonce              TEXT NOT NULL,
    pkce_verifier_enc  BYTEA NOT NULL,
    return_to          TEXT NOT NULL,
    started_at         BIGINT NOT NULL
);
CREATE INDEX oidc_logins_started ON oidc_logins (started_at);
