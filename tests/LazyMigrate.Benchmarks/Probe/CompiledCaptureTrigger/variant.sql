-- A --probe-trigger variant (measurement only): the legacy table's update captured by the compiled trigger of
-- lm_capture.c, built in this folder first (make -C this folder). {directory} is this file's folder.
CREATE FUNCTION {table}_compiled_capture() RETURNS trigger LANGUAGE c
    AS '{directory}/lm_capture.so', 'lm_capture';
CREATE TRIGGER capture AFTER UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_compiled_capture('LegacyCustomer->Customer');
