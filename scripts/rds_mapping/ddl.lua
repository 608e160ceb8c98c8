-- rds_mapping.ddl: spec §2's target schema, as the spec writes it (the script's target_ddl; the
-- bench's psql anchor loads the same text). The framework creates the tables with their keys,
-- unique and CHECK constraints before the rows and adds the indexes and foreign keys after them.
return [[
CREATE TABLE "user" (
  id serial PRIMARY KEY, username varchar(64) NOT NULL, email text, password_hash text NOT NULL,
  role varchar(20) NOT NULL DEFAULT 'dispatcher' CHECK (role IN ('admin','biller','dispatcher')),
  dispatch_area text, verified boolean NOT NULL DEFAULT false, created_at timestamp,
  CONSTRAINT user_username_key UNIQUE (username));
CREATE INDEX idx_user_email ON "user"(email);
CREATE TABLE bag (
  id serial PRIMARY KEY, qr_id varchar(255) NOT NULL,
  type varchar(10) NOT NULL CHECK (type IN ('parent','child')), name text,
  child_count integer NOT NULL DEFAULT 0,
  parent_id integer REFERENCES bag(id) ON DELETE SET NULL,
  user_id integer REFERENCES "user"(id) ON DELETE SET NULL,
  dispatch_area text, status text NOT NULL DEFAULT 'pending',
  weight_kg double precision NOT NULL DEFAULT 0, created_at timestamp,
  CONSTRAINT bag_qr_id_key UNIQUE (qr_id));
CREATE INDEX idx_bag_type ON bag(type);          CREATE INDEX idx_bag_parent_id ON bag(parent_id);
CREATE INDEX idx_bag_user_id ON bag(user_id);    CREATE INDEX idx_bag_dispatch_area ON bag(dispatch_area);
CREATE TABLE bill (
  id serial PRIMARY KEY, bill_id varchar(50) NOT NULL, description text,
  parent_bag_count integer NOT NULL DEFAULT 0, total_weight_kg double precision NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'new', created_by_id integer REFERENCES "user"(id) ON DELETE SET NULL,
  created_at timestamp, CONSTRAINT bill_bill_id_key UNIQUE (bill_id));
CREATE TABLE bill_bag (
  id serial PRIMARY KEY, bill_id integer NOT NULL REFERENCES bill(id) ON DELETE CASCADE,
  bag_id integer NOT NULL REFERENCES bag(id) ON DELETE CASCADE, created_at timestamp,
  CONSTRAINT bill_bag_bill_id_bag_id_key UNIQUE (bill_id, bag_id));
CREATE TABLE link (
  id serial PRIMARY KEY,
  parent_bag_id integer NOT NULL REFERENCES bag(id) ON DELETE CASCADE,
  child_bag_id integer NOT NULL REFERENCES bag(id) ON DELETE CASCADE,
  user_id integer REFERENCES "user"(id) ON DELETE SET NULL, created_at timestamp,
  CONSTRAINT link_parent_child_key UNIQUE (parent_bag_id, child_bag_id),
  CONSTRAINT link_not_self CHECK (parent_bag_id <> child_bag_id));
CREATE INDEX idx_link_child ON link(child_bag_id);
CREATE TABLE scan (
  id serial PRIMARY KEY, "timestamp" timestamp NOT NULL,
  parent_bag_id integer REFERENCES bag(id) ON DELETE SET NULL,
  child_bag_id integer REFERENCES bag(id) ON DELETE SET NULL,
  user_id integer REFERENCES "user"(id) ON DELETE SET NULL);
CREATE INDEX idx_scan_timestamp ON scan("timestamp"); CREATE INDEX idx_scan_parent ON scan(parent_bag_id);
CREATE INDEX idx_scan_child ON scan(child_bag_id);    CREATE INDEX idx_scan_user ON scan(user_id);
CREATE TABLE promotionrequest (
  id serial PRIMARY KEY, user_id integer NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
  requested_role varchar(20) NOT NULL, reason text, status varchar(20) NOT NULL DEFAULT 'pending',
  admin_id integer REFERENCES "user"(id) ON DELETE SET NULL, admin_notes text,
  requested_at timestamp, processed_at timestamp);
CREATE TABLE audit_log (
  id serial PRIMARY KEY, "timestamp" timestamp, user_id integer REFERENCES "user"(id) ON DELETE SET NULL,
  action text NOT NULL, entity_type text, entity_id integer, details text, ip_address text);
CREATE INDEX idx_audit_log_timestamp ON audit_log("timestamp");]]
