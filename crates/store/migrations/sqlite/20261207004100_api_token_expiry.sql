-- API tokens expire and show when they were last used. A token issued
-- before this change expires 90 days after it was issued; the tokens of
-- deactivated users are revoked.
ALTER TABLE web_api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE web_api_tokens ADD COLUMN last_used_at TEXT;
UPDATE web_api_tokens
   SET expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+90 days');
DELETE FROM web_api_tokens WHERE login IN (SELECT login FROM users WHERE NOT active);
