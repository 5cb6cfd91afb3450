-- +goose Up
-- User names and role names share the sharing lists of rows
-- (allowed_roles) and the service principal's name is recorded as the
-- creator of what service keys and the command line make. From now on the
-- names cannot collide (the application refuses them); existing users whose
-- name is reserved ("service" in any case, "*") or a role's are renamed to
-- "<name>-user" (or "-user2", ...) and signed out.
--
-- What moves with a renamed user: its keys, grants and the rows it owns.
-- Rows recorded under exactly "service" stay the service principal's: who
-- made them cannot be told apart, and the safe side is that no account
-- owns them. Sharing lists naming a role's name keep meaning the role.
-- +goose StatementBegin
DO $$
DECLARE
    old_name text;
    fresh    text;
    n        int;
    is_role  boolean;
BEGIN
    FOR old_name IN
        SELECT u.username FROM users u
        WHERE lower(u.username) = 'service' OR u.username = '*'
           OR EXISTS (SELECT 1 FROM roles r WHERE r.name = u.username)
        ORDER BY u.username
    LOOP
        is_role := EXISTS (SELECT 1 FROM roles r WHERE r.name = old_name);
        n := 1;
        fresh := old_name || '-user';
        WHILE EXISTS (SELECT 1 FROM users WHERE username = fresh)
           OR EXISTS (SELECT 1 FROM roles WHERE name = fresh) LOOP
            n := n + 1;
            fresh := old_name || '-user' || n;
        END LOOP;

        DELETE FROM sessions WHERE username = old_name;
        UPDATE users SET username = fresh WHERE username = old_name; -- api_keys follow (ON UPDATE CASCADE)
        UPDATE casbin_rule SET v0 = 'u:' || fresh WHERE ptype = 'g' AND v0 = 'u:' || old_name;

        IF old_name <> 'service' THEN
            UPDATE users SET creator = fresh WHERE creator = old_name;
            UPDATE roles SET creator = fresh WHERE creator = old_name;
            UPDATE api_keys SET created_by = fresh WHERE created_by = old_name;
            UPDATE checkpoints SET creator = fresh WHERE creator = old_name;
            UPDATE endpoints SET creator = fresh WHERE creator = old_name;
            UPDATE inferences SET owner = fresh WHERE owner = old_name;
        END IF;
        IF NOT is_role AND old_name <> '*' THEN
            UPDATE checkpoints SET allowed_roles = array_replace(allowed_roles, old_name, fresh)
            WHERE old_name = ANY (allowed_roles);
        END IF;

        INSERT INTO audit_log (actor, action, target, detail)
        VALUES ('service', 'user.rename', old_name,
                'renamed to ' || fresh || ': the name is reserved or a role''s');
    END LOOP;
    NOTIFY easel_directory;
END $$;
-- +goose StatementEnd

-- +goose Down
SELECT 1;
