-- Several nodes on one database: every committed directory version is
-- announced on the channel "attendant_directory" with the payload
-- "<store_id>:<version>", delivered by PostgreSQL at commit to every node that
-- LISTENs (src/directory/store/notify.rs). A trigger rather than a NOTIFY in
-- each writer: every path that bumps a version (API, import, CLI, restore,
-- another program) is covered, and a rolled-back change announces nothing.
CREATE FUNCTION attendant_directory_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('attendant_directory', NEW.store_id::text || ':' || NEW.version::text);
    RETURN NEW;
END
$$;

CREATE TRIGGER directory_versions_notify
    AFTER INSERT OR UPDATE ON directory_versions
    FOR EACH ROW EXECUTE FUNCTION attendant_directory_notify();
