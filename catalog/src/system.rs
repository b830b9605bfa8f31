//! PostgreSQL's system catalogs (`pg_catalog`) and `information_schema`,
//! computed from Ripple's [`Catalog`] when a statement reads them, so that
//! psql, drivers and BI tools find the tables, views and columns they
//! introspect. OIDs are PostgreSQL's for built-in types, namespaces and
//! catalogs; a user object's OID is `16384 + id`, stable across restarts.
//!
//! Each relation is a column list in a small notation (`name:type …`) and a
//! function producing its rows; the planner reads them as constant rows.

use crate::catalog::{Catalog, CatalogItem, ItemDetail, ItemKind};
use crate::types::{Column, Datum, ElemType, GlobalId, ScalarType, Schema};
use std::collections::BTreeMap;

/// `pg_catalog`'s namespace OID.
pub const PG_CATALOG: u32 = 11;
/// `public`'s namespace OID.
pub const PUBLIC: u32 = 2200;
/// `information_schema`'s namespace OID.
pub const INFORMATION_SCHEMA: u32 = 13183;
/// The OIDs (first, last) of the relations in schemas that are not on the
/// search path: `information_schema`'s (13200–13299) and `ripple_catalog`'s
/// (13500–13599).
pub const OFF_SEARCH_PATH_RELATIONS: (u32, u32) = (13200, 13599);
/// `ripple_catalog`'s namespace OID: Ripple's own system relations.
pub const RIPPLE_CATALOG: u32 = 13500;
/// `pg_toast`'s namespace OID.
pub const PG_TOAST: u32 = 99;
/// The `ripple` database's OID.
pub const DATABASE_OID: u32 = 16384;
/// The bootstrap superuser's OID (the owner of every object).
pub const OWNER_OID: u32 = 10;
/// The owner of every object.
pub const OWNER: &str = "ripple";

/// A role as the system catalogs show it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleInfo {
    pub oid: u32,
    pub name: String,
    pub superuser: bool,
    pub login: bool,
    pub create_role: bool,
    pub create_db: bool,
    pub password: Option<String>,
}

/// Every role: the owner, the roles made with CREATE ROLE, and the
/// session's user when it is none of those (a trusted connection under any
/// name, shown as a superuser).
pub fn role_list(cat: &Catalog, session: &SessionInfo) -> Vec<RoleInfo> {
    let owner = cat.role(OWNER);
    let mut out = vec![RoleInfo {
        oid: OWNER_OID,
        name: OWNER.into(),
        superuser: true,
        login: true,
        create_role: true,
        create_db: true,
        password: owner.and_then(|r| r.password.clone()),
    }];
    for r in cat.roles().filter(|r| r.name != OWNER) {
        out.push(RoleInfo {
            oid: object_oid(r.id),
            name: r.name.clone(),
            superuser: r.superuser,
            login: r.login,
            create_role: r.create_role,
            create_db: r.create_db,
            password: r.password.clone(),
        });
    }
    let user = session.user();
    if !out.iter().any(|r| r.name == user) {
        out.push(RoleInfo {
            oid: OWNER_OID + 1,
            name: user.to_string(),
            superuser: true,
            login: true,
            create_role: true,
            create_db: true,
            password: None,
        });
    }
    out
}
/// The database clients connect to.
pub const DATABASE: &str = "ripple";
/// What `version()` returns: SQLAlchemy and other clients parse the
/// `PostgreSQL N.N` part.
pub const VERSION: &str = concat!(
    "PostgreSQL 15.0 (Ripple ",
    env!("CARGO_PKG_VERSION"),
    ") on x86_64-pc-linux-gnu, a streaming SQL server, 64-bit"
);

/// Signals connection `pid`: cancel its running query, or also end its
/// session (`terminate`); false when there is no such connection. The
/// server installs it; `pg_cancel_backend` and `pg_terminate_backend` call it.
pub type SignalBackend = dyn Fn(i32, bool) -> bool + Send + Sync;

static SIGNAL_BACKEND: std::sync::OnceLock<Box<SignalBackend>> = std::sync::OnceLock::new();

/// Installs the server's [`SignalBackend`] (once per process).
pub fn set_signal_backend(f: Box<SignalBackend>) {
    let _ = SIGNAL_BACKEND.set(f);
}

/// Signals connection `pid` through the installed [`SignalBackend`].
pub fn signal_backend(pid: i32, terminate: bool) -> bool {
    SIGNAL_BACKEND.get().is_some_and(|f| f(pid, terminate))
}

/// The OID of a user object.
pub fn object_oid(id: GlobalId) -> u32 {
    16384 + id.0 as u32
}

/// One connection, as `pg_stat_activity` shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Backend {
    pub pid: i32,
    pub user: String,
    pub application_name: String,
    pub client_addr: Option<String>,
    /// Connection start, microseconds since 1970-01-01 UTC.
    pub backend_start: i64,
    pub state: String,
    pub query: String,
}

/// What a statement knows of the session that runs it: the user, the
/// settings changed with SET, the backend's pid, and the server's other
/// connections.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionInfo {
    pub user: String,
    pub pid: i32,
    /// Settings changed with SET or at startup (lower-case names).
    pub settings: BTreeMap<String, String>,
    pub backends: Vec<Backend>,
}

impl SessionInfo {
    /// The session's value of setting `name` (lower case), or its default;
    /// `None` for a parameter Ripple does not know.
    pub fn setting(&self, name: &str) -> Option<String> {
        let name = name.to_lowercase();
        if name == "session_authorization" || name == "session authorization" {
            return Some(self.user.clone());
        }
        self.settings
            .get(&name)
            .cloned()
            .or_else(|| setting_default(&name).map(str::to_string))
    }

    /// The session's user (the owner when the client gave none).
    pub fn user(&self) -> &str {
        if self.user.is_empty() {
            OWNER
        } else {
            &self.user
        }
    }
}

/// The settings Ripple knows: name, default, category, description.
/// `pg_settings`, SHOW and current_setting read them.
pub const SETTINGS: &[(&str, &str, &str, &str)] = &[
    (
        "application_name",
        "",
        "Reporting and Logging",
        "Sets the application name to be reported in statistics and logs.",
    ),
    (
        "bytea_output",
        "hex",
        "Client Connection Defaults",
        "Sets the output format for bytea.",
    ),
    (
        "client_encoding",
        "UTF8",
        "Client Connection Defaults",
        "Sets the client's character set encoding.",
    ),
    (
        "client_min_messages",
        "notice",
        "Client Connection Defaults",
        "Sets the message levels that are sent to the client.",
    ),
    (
        "DateStyle",
        "ISO, MDY",
        "Client Connection Defaults",
        "Sets the display format for date and time values.",
    ),
    (
        "default_table_access_method",
        "heap",
        "Client Connection Defaults",
        "Sets the default table access method for new tables.",
    ),
    (
        "default_transaction_isolation",
        "serializable",
        "Client Connection Defaults",
        "Sets the transaction isolation level of each new transaction.",
    ),
    (
        "default_transaction_read_only",
        "off",
        "Client Connection Defaults",
        "Sets the default read-only status of new transactions.",
    ),
    (
        "extra_float_digits",
        "1",
        "Client Connection Defaults",
        "Sets the number of digits displayed for floating-point values.",
    ),
    (
        "idle_in_transaction_session_timeout",
        "0",
        "Client Connection Defaults",
        "Sets the maximum allowed idle time between queries, when in a transaction.",
    ),
    (
        "in_hot_standby",
        "off",
        "Preset Options",
        "Shows whether hot standby is currently active.",
    ),
    (
        "integer_datetimes",
        "on",
        "Preset Options",
        "Shows whether datetimes are integer based.",
    ),
    (
        "IntervalStyle",
        "postgres",
        "Client Connection Defaults",
        "Sets the display format for interval values.",
    ),
    (
        "is_superuser",
        "on",
        "Preset Options",
        "Shows whether the current user is a superuser.",
    ),
    ("jit", "off", "Query Tuning", "Allow JIT compilation."),
    (
        "lc_collate",
        "C",
        "Preset Options",
        "Shows the collation order locale.",
    ),
    (
        "lc_ctype",
        "C",
        "Preset Options",
        "Shows the character classification and case conversion locale.",
    ),
    (
        "lc_messages",
        "C",
        "Client Connection Defaults",
        "Sets the language in which messages are displayed.",
    ),
    (
        "lc_monetary",
        "C",
        "Client Connection Defaults",
        "Sets the locale for formatting monetary amounts.",
    ),
    (
        "lc_numeric",
        "C",
        "Client Connection Defaults",
        "Sets the locale for formatting numbers.",
    ),
    (
        "lc_time",
        "C",
        "Client Connection Defaults",
        "Sets the locale for formatting date and time values.",
    ),
    (
        "lock_timeout",
        "0",
        "Client Connection Defaults",
        "Sets the maximum allowed duration of any wait for a lock.",
    ),
    (
        "max_identifier_length",
        "63",
        "Preset Options",
        "Shows the maximum identifier length.",
    ),
    (
        "max_index_keys",
        "32",
        "Preset Options",
        "Shows the maximum number of index keys.",
    ),
    (
        "search_path",
        "\"$user\", public",
        "Client Connection Defaults",
        "Sets the schema search order for names that are not schema-qualified.",
    ),
    (
        "server_encoding",
        "UTF8",
        "Preset Options",
        "Shows the server (database) character set encoding.",
    ),
    (
        "server_version",
        "15.0",
        "Preset Options",
        "Shows the server version.",
    ),
    (
        "server_version_num",
        "150000",
        "Preset Options",
        "Shows the server version as an integer.",
    ),
    (
        "standard_conforming_strings",
        "on",
        "Compatibility",
        "Causes '...' strings to treat backslashes literally.",
    ),
    (
        "statement_timeout",
        "0",
        "Client Connection Defaults",
        "Sets the maximum allowed duration of any statement.",
    ),
    (
        "TimeZone",
        "UTC",
        "Client Connection Defaults",
        "Sets the time zone for displaying and interpreting time stamps.",
    ),
    (
        "transaction_isolation",
        "serializable",
        "Client Connection Defaults",
        "Sets the current transaction's isolation level.",
    ),
    (
        "transaction_read_only",
        "off",
        "Client Connection Defaults",
        "Sets the current transaction's read-only status.",
    ),
];

/// The default of setting `name` (lower case).
pub fn setting_default(name: &str) -> Option<&'static str> {
    let name = match name {
        "transaction isolation level" => "transaction_isolation",
        "time zone" => "timezone",
        n => n,
    };
    SETTINGS
        .iter()
        .find(|s| s.0.eq_ignore_ascii_case(name))
        .map(|s| s.1)
}

/// A system relation: where it lives, its OID, and its columns.
#[derive(Debug, Clone, Copy)]
pub struct SystemRelation {
    pub namespace: u32,
    pub name: &'static str,
    pub oid: u32,
    /// 'r' for a catalog table, 'v' for a view.
    pub kind: char,
    columns: &'static str,
}

impl SystemRelation {
    /// The relation's columns.
    pub fn schema(&self) -> Schema {
        Schema::new(
            self.columns
                .split_whitespace()
                .map(|c| {
                    let (name, ty) = c.split_once(':').expect("name:type");
                    Column {
                        name: name.to_string(),
                        ty: column_type(ty),
                        nullable: true,
                        origin: None,
                    }
                })
                .collect(),
        )
    }

    /// The schema's name.
    pub fn namespace_name(&self) -> &'static str {
        namespace_name(self.namespace).unwrap_or("pg_catalog")
    }

    /// The relation's rows as of now.
    pub fn rows(&self, cat: &Catalog, session: &SessionInfo) -> Vec<Vec<Datum>> {
        let ctx = Ctx { cat, session };
        let rows = match (self.namespace, self.name) {
            (INFORMATION_SCHEMA, n) => ctx.information_schema(n),
            (RIPPLE_CATALOG, n) => ctx.ripple_catalog(n),
            (_, n) => ctx.pg_catalog(n),
        };
        debug_assert!(rows.iter().all(|r| r.len() == self.schema().len()));
        rows
    }
}

/// The types of the notation in `SYSTEM`: PostgreSQL's catalog types map to
/// the closest Ripple type (`name` and `"char"` are text, `regproc` an oid).
fn column_type(ty: &str) -> ScalarType {
    use ScalarType::*;
    match ty {
        "oid" | "regproc" | "regclass" | "regtype" | "xid" => Oid,
        "bool" => Bool,
        "int2" => Int16,
        "int4" => Int32,
        "int8" => Int64,
        "float4" => Float32,
        "float8" => Float64,
        "timestamptz" => TimestampTz,
        "oid[]" => Array(ElemType::Oid),
        "int2[]" => Array(ElemType::Int16),
        "int2vector" => Int2Vector,
        "text[]" => Array(ElemType::Text),
        "float4[]" => Array(ElemType::Float32),
        _ => Text,
    }
}

macro_rules! rel {
    ($ns:expr, $name:literal, $oid:literal, $kind:literal, $cols:literal) => {
        SystemRelation {
            namespace: $ns,
            name: $name,
            oid: $oid,
            kind: $kind,
            columns: $cols,
        }
    };
}

/// Every system relation. Column sets are PostgreSQL 15's (aclitem[],
/// int2vector and oidvector shown as text[], int2[] and oid[]).
pub static SYSTEM: &[SystemRelation] = &[
    rel!(PG_CATALOG, "pg_namespace", 2615, 'r', "oid:oid nspname:name nspowner:oid nspacl:text[]"),
    rel!(PG_CATALOG, "pg_class", 1259, 'r', "oid:oid relname:name relnamespace:oid reltype:oid reloftype:oid relowner:oid relam:oid relfilenode:oid reltablespace:oid relpages:int4 reltuples:float4 relallvisible:int4 reltoastrelid:oid relhasindex:bool relisshared:bool relpersistence:char relkind:char relnatts:int2 relchecks:int2 relhasrules:bool relhastriggers:bool relhassubclass:bool relrowsecurity:bool relforcerowsecurity:bool relispopulated:bool relreplident:char relispartition:bool relrewrite:oid relfrozenxid:xid relminmxid:xid relacl:text[] reloptions:text[] relpartbound:text"),
    rel!(PG_CATALOG, "pg_attribute", 1249, 'r', "attrelid:oid attname:name atttypid:oid attstattarget:int4 attlen:int2 attnum:int2 attndims:int4 attcacheoff:int4 atttypmod:int4 attbyval:bool attalign:char attstorage:char attcompression:char attnotnull:bool atthasdef:bool atthasmissing:bool attidentity:char attgenerated:char attisdropped:bool attislocal:bool attinhcount:int4 attcollation:oid attacl:text[] attoptions:text[] attfdwoptions:text[] attmissingval:text"),
    rel!(PG_CATALOG, "pg_type", 1247, 'r', "oid:oid typname:name typnamespace:oid typowner:oid typlen:int2 typbyval:bool typtype:char typcategory:char typispreferred:bool typisdefined:bool typdelim:char typrelid:oid typsubscript:regproc typelem:oid typarray:oid typinput:regproc typoutput:regproc typreceive:regproc typsend:regproc typmodin:regproc typmodout:regproc typanalyze:regproc typalign:char typstorage:char typnotnull:bool typbasetype:oid typtypmod:int4 typndims:int4 typcollation:oid typdefaultbin:text typdefault:text typacl:text[]"),
    rel!(PG_CATALOG, "pg_proc", 1255, 'r', "oid:oid proname:name pronamespace:oid proowner:oid prolang:oid procost:float4 prorows:float4 provariadic:oid prosupport:regproc prokind:char prosecdef:bool proleakproof:bool proisstrict:bool proretset:bool provolatile:char proparallel:char pronargs:int2 pronargdefaults:int2 prorettype:oid proargtypes:oid[] proallargtypes:oid[] proargmodes:text[] proargnames:text[] proargdefaults:text protrftypes:oid[] prosrc:text probin:text prosqlbody:text proconfig:text[] proacl:text[]"),
    rel!(PG_CATALOG, "pg_index", 2610, 'r', "indexrelid:oid indrelid:oid indnatts:int2 indnkeyatts:int2 indisunique:bool indnullsnotdistinct:bool indisprimary:bool indisexclusion:bool indimmediate:bool indisclustered:bool indisvalid:bool indcheckxmin:bool indisready:bool indislive:bool indisreplident:bool indkey:int2vector indcollation:oid[] indclass:oid[] indoption:int2vector indexprs:text indpred:text"),
    rel!(PG_CATALOG, "pg_attrdef", 2604, 'r', "oid:oid adrelid:oid adnum:int2 adbin:text"),
    rel!(PG_CATALOG, "pg_constraint", 2606, 'r', "oid:oid conname:name connamespace:oid contype:char condeferrable:bool condeferred:bool convalidated:bool conrelid:oid contypid:oid conindid:oid conparentid:oid confrelid:oid confupdtype:char confdeltype:char confmatchtype:char conislocal:bool coninhcount:int4 connoinherit:bool conkey:int2[] confkey:int2[] conpfeqop:oid[] conppeqop:oid[] conffeqop:oid[] confdelsetcols:int2[] conexclop:oid[] conbin:text"),
    rel!(PG_CATALOG, "pg_description", 2609, 'r', "objoid:oid classoid:oid objsubid:int4 description:text"),
    rel!(PG_CATALOG, "pg_shdescription", 2396, 'r', "objoid:oid classoid:oid description:text"),
    rel!(PG_CATALOG, "pg_database", 1262, 'r', "oid:oid datname:name datdba:oid encoding:int4 datlocprovider:char datistemplate:bool datallowconn:bool datconnlimit:int4 datfrozenxid:xid datminmxid:xid dattablespace:oid datcollate:text datctype:text daticulocale:text datcollversion:text datacl:text[]"),
    rel!(PG_CATALOG, "pg_authid", 1260, 'r', "oid:oid rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool rolcreatedb:bool rolcanlogin:bool rolreplication:bool rolbypassrls:bool rolconnlimit:int4 rolpassword:text rolvaliduntil:timestamptz"),
    rel!(PG_CATALOG, "pg_roles", 12001, 'v', "rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool rolcreatedb:bool rolcanlogin:bool rolreplication:bool rolconnlimit:int4 rolpassword:text rolvaliduntil:timestamptz rolbypassrls:bool rolconfig:text[] oid:oid"),
    rel!(PG_CATALOG, "pg_user", 12002, 'v', "usename:name usesysid:oid usecreatedb:bool usesuper:bool userepl:bool usebypassrls:bool passwd:text valuntil:timestamptz useconfig:text[]"),
    rel!(PG_CATALOG, "pg_auth_members", 1261, 'r', "oid:oid roleid:oid member:oid grantor:oid admin_option:bool"),
    rel!(PG_CATALOG, "pg_settings", 12003, 'v', "name:text setting:text unit:text category:text short_desc:text extra_desc:text context:text vartype:text source:text min_val:text max_val:text enumvals:text[] boot_val:text reset_val:text sourcefile:text sourceline:int4 pending_restart:bool"),
    rel!(PG_CATALOG, "pg_am", 2601, 'r', "oid:oid amname:name amhandler:regproc amtype:char"),
    rel!(PG_CATALOG, "pg_collation", 3456, 'r', "oid:oid collname:name collnamespace:oid collowner:oid collprovider:char collisdeterministic:bool collencoding:int4 collcollate:text collctype:text colliculocale:text collversion:text"),
    rel!(PG_CATALOG, "pg_enum", 3501, 'r', "oid:oid enumtypid:oid enumsortorder:float4 enumlabel:name"),
    rel!(PG_CATALOG, "pg_inherits", 2611, 'r', "inhrelid:oid inhparent:oid inhseqno:int4 inhdetachpending:bool"),
    rel!(PG_CATALOG, "pg_views", 12004, 'v', "schemaname:name viewname:name viewowner:name definition:text"),
    rel!(PG_CATALOG, "pg_matviews", 12005, 'v', "schemaname:name matviewname:name matviewowner:name tablespace:name hasindexes:bool ispopulated:bool definition:text"),
    rel!(PG_CATALOG, "pg_tables", 12006, 'v', "schemaname:name tablename:name tableowner:name tablespace:name hasindexes:bool hasrules:bool hastriggers:bool rowsecurity:bool"),
    rel!(PG_CATALOG, "pg_indexes", 12007, 'v', "schemaname:name tablename:name indexname:name tablespace:name indexdef:text"),
    rel!(PG_CATALOG, "pg_stat_user_tables", 12008, 'v', "relid:oid schemaname:name relname:name seq_scan:int8 seq_tup_read:int8 idx_scan:int8 idx_tup_fetch:int8 n_tup_ins:int8 n_tup_upd:int8 n_tup_del:int8 n_tup_hot_upd:int8 n_live_tup:int8 n_dead_tup:int8 n_mod_since_analyze:int8 n_ins_since_vacuum:int8 last_vacuum:timestamptz last_autovacuum:timestamptz last_analyze:timestamptz last_autoanalyze:timestamptz vacuum_count:int8 autovacuum_count:int8 analyze_count:int8 autoanalyze_count:int8"),
    rel!(PG_CATALOG, "pg_stat_activity", 12009, 'v', "datid:oid datname:name pid:int4 leader_pid:int4 usesysid:oid usename:name application_name:text client_addr:inet client_hostname:text client_port:int4 backend_start:timestamptz xact_start:timestamptz query_start:timestamptz state_change:timestamptz wait_event_type:text wait_event:text state:text backend_xid:xid backend_xmin:xid query_id:int8 query:text backend_type:text"),
    rel!(PG_CATALOG, "pg_extension", 3079, 'r', "oid:oid extname:name extowner:oid extnamespace:oid extrelocatable:bool extversion:text extconfig:oid[] extcondition:text[]"),
    rel!(PG_CATALOG, "pg_available_extensions", 12010, 'v', "name:name default_version:text installed_version:text comment:text"),
    rel!(PG_CATALOG, "pg_range", 3541, 'r', "rngtypid:oid rngsubtype:oid rngmultitypid:oid rngcollation:oid rngsubopc:oid rngcanonical:regproc rngsubdiff:regproc"),
    rel!(PG_CATALOG, "pg_conversion", 2607, 'r', "oid:oid conname:name connamespace:oid conowner:oid conforencoding:int4 contoencoding:int4 conproc:regproc condefault:bool"),
    rel!(PG_CATALOG, "pg_tablespace", 1213, 'r', "oid:oid spcname:name spcowner:oid spcacl:text[] spcoptions:text[]"),
    rel!(PG_CATALOG, "pg_language", 2612, 'r', "oid:oid lanname:name lanowner:oid lanispl:bool lanpltrusted:bool lanplcallfoid:oid laninline:oid lanvalidator:oid lanacl:text[]"),
    rel!(PG_CATALOG, "pg_policy", 3256, 'r', "oid:oid polname:name polrelid:oid polcmd:char polpermissive:bool polroles:oid[] polqual:text polwithcheck:text"),
    rel!(PG_CATALOG, "pg_statistic_ext", 3381, 'r', "oid:oid stxrelid:oid stxname:name stxnamespace:oid stxowner:oid stxstattarget:int4 stxkeys:int2[] stxkind:text[] stxexprs:text"),
    rel!(PG_CATALOG, "pg_publication", 6104, 'r', "oid:oid pubname:name pubowner:oid puballtables:bool pubinsert:bool pubupdate:bool pubdelete:bool pubtruncate:bool pubviaroot:bool"),
    rel!(PG_CATALOG, "pg_publication_namespace", 6237, 'r', "oid:oid pnpubid:oid pnnspid:oid"),
    rel!(PG_CATALOG, "pg_publication_rel", 6106, 'r', "oid:oid prpubid:oid prrelid:oid prqual:text prattrs:int2[]"),
    rel!(PG_CATALOG, "pg_trigger", 2620, 'r', "oid:oid tgrelid:oid tgparentid:oid tgname:name tgfoid:oid tgtype:int2 tgenabled:char tgisinternal:bool tgconstrrelid:oid tgconstrindid:oid tgconstraint:oid tgdeferrable:bool tginitdeferred:bool tgnargs:int2 tgattr:int2[] tgargs:text tgqual:text tgoldtable:name tgnewtable:name"),
    rel!(PG_CATALOG, "pg_rewrite", 2618, 'r', "oid:oid rulename:name ev_class:oid ev_type:char ev_enabled:char is_instead:bool ev_qual:text ev_action:text"),
    rel!(PG_CATALOG, "pg_sequence", 2224, 'r', "seqrelid:oid seqtypid:oid seqstart:int8 seqincrement:int8 seqmax:int8 seqmin:int8 seqcache:int8 seqcycle:bool"),
    rel!(PG_CATALOG, "pg_depend", 2608, 'r', "classid:oid objid:oid objsubid:int4 refclassid:oid refobjid:oid refobjsubid:int4 deptype:char"),
    rel!(PG_CATALOG, "pg_opclass", 2616, 'r', "oid:oid opcmethod:oid opcname:name opcnamespace:oid opcowner:oid opcfamily:oid opcintype:oid opcdefault:bool opckeytype:oid"),
    rel!(PG_CATALOG, "pg_operator", 2617, 'r', "oid:oid oprname:name oprnamespace:oid oprowner:oid oprkind:char oprcanmerge:bool oprcanhash:bool oprleft:oid oprright:oid oprresult:oid oprcom:oid oprnegate:oid oprcode:regproc oprrest:regproc oprjoin:regproc"),
    rel!(PG_CATALOG, "pg_foreign_table", 3118, 'r', "ftrelid:oid ftserver:oid ftoptions:text[]"),
    rel!(PG_CATALOG, "pg_event_trigger", 3466, 'r', "oid:oid evtname:name evtevent:name evtowner:oid evtfoid:oid evtenabled:char evttags:text[]"),
    rel!(PG_CATALOG, "pg_cast", 2605, 'r', "oid:oid castsource:oid casttarget:oid castfunc:oid castcontext:char castmethod:char"),
    rel!(PG_CATALOG, "pg_aggregate", 2600, 'r', "aggfnoid:regproc aggkind:char aggnumdirectargs:int2 aggtransfn:regproc aggfinalfn:regproc"),
    rel!(PG_CATALOG, "pg_locks", 12011, 'v', "locktype:text database:oid relation:oid page:int4 tuple:int2 virtualxid:text transactionid:xid classid:oid objid:oid objsubid:int2 virtualtransaction:text pid:int4 mode:text granted:bool fastpath:bool waitstart:timestamptz"),
    rel!(PG_CATALOG, "pg_prepared_statements", 12012, 'v', "name:text statement:text prepare_time:timestamptz parameter_types:oid[] from_sql:bool generic_plans:int8 custom_plans:int8"),
    rel!(PG_CATALOG, "pg_timezone_names", 12013, 'v', "name:text abbrev:text utc_offset:interval is_dst:bool"),
    rel!(PG_CATALOG, "pg_stat_gssapi", 12014, 'v', "pid:int4 gss_authenticated:bool principal:text encrypted:bool"),
    rel!(PG_CATALOG, "pg_stat_ssl", 12015, 'v', "pid:int4 ssl:bool version:text cipher:text bits:int4 client_dn:text client_serial:text issuer_dn:text"),
    rel!(PG_CATALOG, "pg_get_keywords", 12016, 'v', "word:text catcode:char barelabel:bool catdesc:text baredesc:text"),
    rel!(RIPPLE_CATALOG, "recovery", 13501, 'v', "object_id:oid name:text kind:text source:text rows:int8 ready_ms:float8 rebuilt_ms:float8"),
    rel!(RIPPLE_CATALOG, "source_status", 13502, 'v', "object_id:oid name:text connector:text status:text position:int8 rows:int8 skipped:int8 error:text error_at:timestamptz written_at:timestamptz"),
    rel!(INFORMATION_SCHEMA, "schemata", 13200, 'v', "catalog_name:name schema_name:name schema_owner:name default_character_set_catalog:name default_character_set_schema:name default_character_set_name:name sql_path:text"),
    rel!(INFORMATION_SCHEMA, "tables", 13201, 'v', "table_catalog:name table_schema:name table_name:name table_type:text self_referencing_column_name:name reference_generation:text user_defined_type_catalog:name user_defined_type_schema:name user_defined_type_name:name is_insertable_into:text is_typed:text commit_action:text"),
    rel!(INFORMATION_SCHEMA, "columns", 13202, 'v', "table_catalog:name table_schema:name table_name:name column_name:name ordinal_position:int4 column_default:text is_nullable:text data_type:text character_maximum_length:int4 character_octet_length:int4 numeric_precision:int4 numeric_precision_radix:int4 numeric_scale:int4 datetime_precision:int4 interval_type:text interval_precision:int4 character_set_catalog:name character_set_schema:name character_set_name:name collation_catalog:name collation_schema:name collation_name:name domain_catalog:name domain_schema:name domain_name:name udt_catalog:name udt_schema:name udt_name:name scope_catalog:name scope_schema:name scope_name:name maximum_cardinality:int4 dtd_identifier:name is_self_referencing:text is_identity:text identity_generation:text identity_start:text identity_increment:text identity_maximum:text identity_minimum:text identity_cycle:text is_generated:text generation_expression:text is_updatable:text"),
    rel!(INFORMATION_SCHEMA, "views", 13203, 'v', "table_catalog:name table_schema:name table_name:name view_definition:text check_option:text is_updatable:text is_insertable_into:text is_trigger_updatable:text is_trigger_deletable:text is_trigger_insertable_into:text"),
    rel!(INFORMATION_SCHEMA, "table_constraints", 13204, 'v', "constraint_catalog:name constraint_schema:name constraint_name:name table_catalog:name table_schema:name table_name:name constraint_type:text is_deferrable:text initially_deferred:text enforced:text nulls_distinct:text"),
    rel!(INFORMATION_SCHEMA, "key_column_usage", 13205, 'v', "constraint_catalog:name constraint_schema:name constraint_name:name table_catalog:name table_schema:name table_name:name column_name:name ordinal_position:int4 position_in_unique_constraint:int4"),
    rel!(INFORMATION_SCHEMA, "referential_constraints", 13206, 'v', "constraint_catalog:name constraint_schema:name constraint_name:name unique_constraint_catalog:name unique_constraint_schema:name unique_constraint_name:name match_option:text update_rule:text delete_rule:text"),
    rel!(INFORMATION_SCHEMA, "constraint_column_usage", 13207, 'v', "table_catalog:name table_schema:name table_name:name column_name:name constraint_catalog:name constraint_schema:name constraint_name:name"),
    rel!(INFORMATION_SCHEMA, "check_constraints", 13208, 'v', "constraint_catalog:name constraint_schema:name constraint_name:name check_clause:text"),
    rel!(INFORMATION_SCHEMA, "routines", 13209, 'v', "specific_catalog:name specific_schema:name specific_name:name routine_catalog:name routine_schema:name routine_name:name routine_type:text data_type:text type_udt_name:name routine_body:text routine_definition:text external_language:text is_deterministic:text security_type:text"),
    rel!(INFORMATION_SCHEMA, "character_sets", 13210, 'v', "character_set_catalog:name character_set_schema:name character_set_name:name character_repertoire:name form_of_use:name default_collate_catalog:name default_collate_schema:name default_collate_name:name"),
    rel!(INFORMATION_SCHEMA, "sequences", 13211, 'v', "sequence_catalog:name sequence_schema:name sequence_name:name data_type:text numeric_precision:int4 numeric_precision_radix:int4 numeric_scale:int4 start_value:text minimum_value:text maximum_value:text increment:text cycle_option:text"),
    rel!(INFORMATION_SCHEMA, "triggers", 13212, 'v', "trigger_catalog:name trigger_schema:name trigger_name:name event_manipulation:text event_object_catalog:name event_object_schema:name event_object_table:name action_order:int4 action_condition:text action_statement:text action_orientation:text action_timing:text"),
];

/// The system relation `name` in schema `namespace` (`None`: the implicit
/// `pg_catalog`, as PostgreSQL searches it before the search path).
pub fn lookup(namespace: Option<&str>, name: &str) -> Option<&'static SystemRelation> {
    let ns = match namespace {
        None | Some("pg_catalog") => PG_CATALOG,
        Some("information_schema") => INFORMATION_SCHEMA,
        Some("ripple_catalog") => RIPPLE_CATALOG,
        Some(_) => return None,
    };
    SYSTEM.iter().find(|r| r.namespace == ns && r.name == name)
}

/// A namespace's name by OID.
pub fn namespace_name(oid: u32) -> Option<&'static str> {
    NAMESPACES.iter().find(|n| n.0 == oid).map(|n| n.1)
}

const NAMESPACES: &[(u32, &str)] = &[
    (PG_CATALOG, "pg_catalog"),
    (PUBLIC, "public"),
    (INFORMATION_SCHEMA, "information_schema"),
    (RIPPLE_CATALOG, "ripple_catalog"),
    (PG_TOAST, "pg_toast"),
];

/// A built-in type: OID, name, length, by-value, category, array type OID,
/// and the prefix of its I/O functions (`int4` → int4in, `numeric_` → numeric_in).
struct BuiltinType {
    oid: u32,
    name: &'static str,
    len: i16,
    byval: bool,
    category: char,
    array: u32,
    io: &'static str,
    typtype: char,
}

const fn ty(
    oid: u32,
    name: &'static str,
    len: i16,
    byval: bool,
    category: char,
    array: u32,
    io: &'static str,
) -> BuiltinType {
    BuiltinType {
        oid,
        name,
        len,
        byval,
        category,
        array,
        io,
        typtype: if category == 'P' { 'p' } else { 'b' },
    }
}

static TYPES: &[BuiltinType] = &[
    ty(16, "bool", 1, true, 'B', 1000, "bool"),
    ty(17, "bytea", -1, false, 'U', 1001, "bytea"),
    ty(18, "char", 1, true, 'Z', 1002, "char"),
    ty(19, "name", 64, false, 'S', 1003, "name"),
    ty(20, "int8", 8, true, 'N', 1016, "int8"),
    ty(21, "int2", 2, true, 'N', 1005, "int2"),
    ty(22, "int2vector", -1, false, 'A', 1006, "int2vector"),
    ty(23, "int4", 4, true, 'N', 1007, "int4"),
    ty(24, "regproc", 4, true, 'N', 1008, "regproc"),
    ty(25, "text", -1, false, 'S', 1009, "text"),
    ty(26, "oid", 4, true, 'N', 1028, "oid"),
    ty(28, "xid", 4, true, 'U', 1011, "xid"),
    ty(30, "oidvector", -1, false, 'A', 1013, "oidvector"),
    ty(114, "json", -1, false, 'U', 199, "json_"),
    ty(194, "pg_node_tree", -1, false, 'Z', 0, "pg_node_tree_"),
    ty(700, "float4", 4, true, 'N', 1021, "float4"),
    ty(701, "float8", 8, true, 'N', 1022, "float8"),
    ty(705, "unknown", -2, false, 'X', 0, "unknown"),
    ty(1033, "aclitem", 12, false, 'U', 1034, "aclitem"),
    ty(1042, "bpchar", -1, false, 'S', 1014, "bpchar"),
    ty(1043, "varchar", -1, false, 'S', 1015, "varchar"),
    ty(1082, "date", 4, true, 'D', 1182, "date_"),
    ty(1083, "time", 8, true, 'D', 1183, "time_"),
    ty(1114, "timestamp", 8, true, 'D', 1115, "timestamp_"),
    ty(1184, "timestamptz", 8, true, 'D', 1185, "timestamptz_"),
    ty(1186, "interval", 16, false, 'T', 1187, "interval_"),
    ty(1266, "timetz", 12, false, 'D', 1270, "timetz_"),
    ty(1700, "numeric", -1, false, 'N', 1231, "numeric_"),
    ty(2205, "regclass", 4, true, 'N', 2210, "regclass"),
    ty(2206, "regtype", 4, true, 'N', 2211, "regtype"),
    ty(2249, "record", -1, false, 'P', 2287, "record_"),
    ty(2276, "any", 4, true, 'P', 0, "any_"),
    ty(2277, "anyarray", -1, false, 'P', 0, "anyarray_"),
    ty(2278, "void", 4, true, 'P', 0, "void_"),
    ty(2950, "uuid", 16, false, 'U', 2951, "uuid_"),
    ty(3802, "jsonb", -1, false, 'U', 3807, "jsonb_"),
    ty(4089, "regnamespace", 4, true, 'N', 4090, "regnamespace"),
    ty(2275, "cstring", -2, false, 'P', 1263, "cstring_"),
    ty(2279, "trigger", 4, true, 'P', 0, "trigger_"),
    ty(3838, "event_trigger", 4, true, 'P', 0, "event_trigger_"),
    ty(
        2280,
        "language_handler",
        4,
        true,
        'P',
        0,
        "language_handler_",
    ),
    ty(2281, "internal", 8, true, 'P', 0, "internal_"),
    ty(2283, "anyelement", 4, true, 'P', 0, "anyelement_"),
    ty(2776, "anynonarray", 4, true, 'P', 0, "anynonarray_"),
    ty(3500, "anyenum", 4, true, 'P', 0, "anyenum_"),
    ty(3831, "anyrange", -1, false, 'P', 0, "anyrange_"),
    ty(3115, "fdw_handler", 4, true, 'P', 0, "fdw_handler_"),
    ty(
        325,
        "index_am_handler",
        4,
        true,
        'P',
        0,
        "index_am_handler_",
    ),
    ty(
        269,
        "table_am_handler",
        4,
        true,
        'P',
        0,
        "table_am_handler_",
    ),
];

/// Every type name `::regtype` reads at run time, with its OID.
pub fn type_oids() -> Vec<(String, u32)> {
    let mut out = vec![];
    for t in TYPES {
        out.push((t.name.to_string(), t.oid));
        out.push((format_type(t.oid, None), t.oid));
        if t.array != 0 {
            out.push((format!("_{}", t.name), t.array));
            out.push((format_type(t.array, None), t.array));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every function name `::regproc` reads at run time, with its OID.
pub fn proc_oids() -> Vec<(String, u32)> {
    io_functions()
}

/// PostgreSQL's `format_type(oid, typmod)`: the SQL name of a type.
pub fn format_type(oid: u32, typmod: Option<i32>) -> String {
    let m = typmod.filter(|m| *m >= 0);
    let base = match oid {
        16 => "boolean".to_string(),
        18 => "\"char\"".to_string(),
        20 => "bigint".to_string(),
        21 => "smallint".to_string(),
        23 => "integer".to_string(),
        700 => "real".to_string(),
        701 => "double precision".to_string(),
        1042 => match m {
            Some(m) => format!("character({})", m - 4),
            None => "character".to_string(),
        },
        1043 => match m {
            Some(m) => format!("character varying({})", m - 4),
            None => "character varying".to_string(),
        },
        1700 => match m {
            Some(m) => format!("numeric({},{})", ((m - 4) >> 16) & 0xffff, (m - 4) & 0xffff),
            None => "numeric".to_string(),
        },
        1083 => "time without time zone".to_string(),
        1114 => "timestamp without time zone".to_string(),
        1184 => "timestamp with time zone".to_string(),
        1266 => "time with time zone".to_string(),
        _ => match TYPES.iter().find(|t| t.oid == oid) {
            Some(t) => t.name.to_string(),
            None => match TYPES.iter().find(|t| t.array == oid) {
                Some(t) => return format!("{}[]", format_type(t.oid, typmod)),
                None => return "???".to_string(),
            },
        },
    };
    base
}

/// The typmod PostgreSQL records for a column of type `t` (-1 for none).
pub fn typmod(t: ScalarType) -> i32 {
    match t {
        ScalarType::Varchar(Some(n)) | ScalarType::Char(n) => n as i32 + 4,
        ScalarType::Numeric(Some((p, s))) => (((p as i32) << 16) | (s as i32 & 0xffff)) + 4,
        _ => -1,
    }
}

/// The name of the type with OID `oid` in `pg_type` (arrays as `_int4`).
pub fn type_name(oid: u32) -> Option<String> {
    TYPES
        .iter()
        .find(|t| t.oid == oid)
        .map(|t| t.name.to_string())
        .or_else(|| {
            TYPES
                .iter()
                .find(|t| t.array == oid)
                .map(|t| format!("_{}", t.name))
        })
}

/// The OID of the type named `name` (a pg_type name such as `int4`, or an
/// SQL name such as `integer`), for `::regtype`.
pub fn type_oid(name: &str) -> Option<u32> {
    let n = name.trim().to_lowercase();
    let n = n.strip_prefix("pg_catalog.").unwrap_or(&n);
    let alias = match n {
        "boolean" => "bool",
        "smallint" => "int2",
        "integer" | "int" => "int4",
        "bigint" => "int8",
        "real" => "float4",
        "double precision" => "float8",
        "character varying" => "varchar",
        "character" => "bpchar",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        "time without time zone" => "time",
        "\"char\"" => "char",
        "decimal" => "numeric",
        n => n,
    };
    if let Some(elem) = alias.strip_suffix("[]") {
        let e = type_oid(elem)?;
        return TYPES.iter().find(|t| t.oid == e).map(|t| t.array);
    }
    if let Some(elem) = alias.strip_prefix('_') {
        return TYPES.iter().find(|t| t.name == elem).map(|t| t.array);
    }
    TYPES.iter().find(|t| t.name == alias).map(|t| t.oid)
}

/// The I/O functions listed in `pg_proc` (name → OID), one set per type
/// plus the array ones.
fn io_functions() -> Vec<(String, u32)> {
    let mut names: Vec<String> = vec![];
    for t in TYPES.iter() {
        for f in ["in", "out", "recv", "send"] {
            names.push(format!("{}{f}", t.io));
        }
    }
    for f in ["array_in", "array_out", "array_recv", "array_send"] {
        names.push(f.to_string());
    }
    names.sort();
    names.dedup();
    names
        .into_iter()
        .enumerate()
        .map(|(i, n)| (n, 10000 + i as u32))
        .collect()
}

/// The first OID of the aggregates listed in `pg_proc`.
const AGGREGATE_OIDS: u32 = 11000;

/// Aggregates as `pg_proc` and `pg_aggregate` list them: name, result
/// type and argument type (the double precision variants, and count).
const AGGREGATES: &[(&str, u32, u32)] = &[
    ("avg", 701, 701),
    ("count", 20, 2276),
    ("max", 701, 701),
    ("min", 701, 701),
    ("stddev", 701, 701),
    ("stddev_pop", 701, 701),
    ("stddev_samp", 701, 701),
    ("sum", 701, 701),
    ("var_pop", 701, 701),
    ("var_samp", 701, 701),
    ("variance", 701, 701),
];

/// The OID of the function `name` in `pg_proc`, for `::regproc`.
pub fn proc_oid(name: &str) -> Option<u32> {
    let n = name.trim().to_lowercase();
    let n = n.strip_prefix("pg_catalog.").unwrap_or(&n);
    io_functions()
        .into_iter()
        .find(|(f, _)| f == n)
        .map(|(_, o)| o)
}

/// The name of the namespace called `name`, for `::regnamespace`.
pub fn namespace_oid(name: &str) -> Option<u32> {
    NAMESPACES.iter().find(|n| n.1 == name).map(|n| n.0)
}

/// Every relation `::regclass` can name: (qualified-name spellings, OID).
/// User objects first (they are found unqualified), then system relations.
pub fn relation_oids(cat: &Catalog) -> Vec<(String, u32)> {
    let mut out = vec![];
    for item in cat.items() {
        let oid = object_oid(item.id);
        out.push((item.name.clone(), oid));
        out.push((format!("public.{}", item.name), oid));
    }
    for r in SYSTEM {
        let ns = r.namespace_name();
        if r.namespace == PG_CATALOG {
            out.push((r.name.to_string(), r.oid));
        }
        out.push((format!("{ns}.{}", r.name), r.oid));
    }
    out
}

/// Every relation's name by OID (as `oid::regclass::text` shows it).
pub fn relation_names(cat: &Catalog) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = cat
        .items()
        .map(|i| (object_oid(i.id), quote_ident(&i.name)))
        .collect();
    for r in SYSTEM {
        let name = if r.namespace == PG_CATALOG {
            r.name.to_string()
        } else {
            format!("{}.{}", r.namespace_name(), r.name)
        };
        out.push((r.oid, name));
    }
    out
}

/// PostgreSQL's `quote_ident`: double quotes unless `s` is a lower-case
/// identifier that is not a reserved word.
pub fn quote_ident(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !RESERVED.contains(&s);
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// Reserved key words, which `quote_ident` quotes.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// Some of PostgreSQL's unreserved key words, for `pg_get_keywords()`.
const UNRESERVED: &[&str] = &[
    "abort",
    "absolute",
    "action",
    "add",
    "after",
    "aggregate",
    "also",
    "alter",
    "always",
    "attach",
    "attribute",
    "before",
    "begin",
    "by",
    "cache",
    "cascade",
    "close",
    "columns",
    "comment",
    "commit",
    "committed",
    "copy",
    "cursor",
    "cycle",
    "data",
    "database",
    "day",
    "declare",
    "delete",
    "detach",
    "discard",
    "drop",
    "each",
    "escape",
    "execute",
    "explain",
    "first",
    "following",
    "function",
    "hold",
    "hour",
    "index",
    "insert",
    "isolation",
    "key",
    "last",
    "level",
    "listen",
    "materialized",
    "minute",
    "month",
    "move",
    "name",
    "next",
    "no",
    "notify",
    "nulls",
    "of",
    "off",
    "preceding",
    "prepare",
    "prior",
    "range",
    "read",
    "recursive",
    "refresh",
    "release",
    "rename",
    "reset",
    "restart",
    "rollback",
    "rows",
    "savepoint",
    "schema",
    "scroll",
    "second",
    "sequence",
    "session",
    "set",
    "show",
    "source",
    "start",
    "subscribe",
    "table",
    "temp",
    "temporary",
    "text",
    "transaction",
    "truncate",
    "type",
    "unbounded",
    "update",
    "vacuum",
    "view",
    "views",
    "year",
    "zone",
];

/// Some of PostgreSQL's column-name key words, for `pg_get_keywords()`.
const COLUMN_NAME_KEYWORDS: &[&str] = &[
    "between",
    "bigint",
    "bit",
    "boolean",
    "char",
    "character",
    "coalesce",
    "dec",
    "decimal",
    "exists",
    "extract",
    "float",
    "greatest",
    "int",
    "integer",
    "interval",
    "least",
    "national",
    "nchar",
    "none",
    "nullif",
    "numeric",
    "overlay",
    "position",
    "precision",
    "real",
    "row",
    "setof",
    "smallint",
    "substring",
    "time",
    "timestamp",
    "treat",
    "trim",
    "values",
    "varchar",
];

/// The SQL of an index, as `pg_get_indexdef` gives it.
pub fn index_def(cat: &Catalog, item: &CatalogItem) -> Option<String> {
    let ItemDetail::Index { on, keys } = &item.detail else {
        return None;
    };
    let table = cat.get(*on)?;
    let cols: Vec<String> = keys
        .iter()
        .filter_map(|k| table.schema.columns.get(*k))
        .map(|c| quote_ident(&c.name))
        .collect();
    Some(format!(
        "CREATE INDEX {} ON public.{} USING btree ({})",
        quote_ident(&item.name),
        quote_ident(&table.name),
        cols.join(", ")
    ))
}

/// The key columns of an index, by name, as `pg_get_indexdef(oid, n, …)`
/// gives them for n = 1, 2, ….
pub fn index_columns(cat: &Catalog, item: &CatalogItem) -> Vec<String> {
    match &item.detail {
        ItemDetail::Index { on, keys } => cat.get(*on).map_or(vec![], |t| {
            keys.iter()
                .filter_map(|k| t.schema.columns.get(*k))
                .map(|c| quote_ident(&c.name))
                .collect()
        }),
        _ => vec![],
    }
}

/// A view's defining query, as `pg_get_viewdef` gives it.
pub fn view_def(item: &CatalogItem) -> Option<String> {
    match (&item.kind, &item.detail) {
        (ItemKind::View | ItemKind::MaterializedView, ItemDetail::Query { sql }) => {
            Some(format!(" {};", sql.trim().trim_end_matches(';')))
        }
        _ => None,
    }
}

fn oid(v: u32) -> Datum {
    Datum::Int64(v as i64)
}
fn text(s: &str) -> Datum {
    Datum::Text(s.to_string())
}
fn int2(v: i16) -> Datum {
    Datum::Int16(v)
}
fn int4(v: i32) -> Datum {
    Datum::Int32(v)
}
fn int8(v: i64) -> Datum {
    Datum::Int64(v)
}
fn boolean(v: bool) -> Datum {
    Datum::Bool(v)
}
fn float4(v: f32) -> Datum {
    Datum::Float32(crate::types::F32(v))
}
fn yes_no(v: bool) -> Datum {
    text(if v { "YES" } else { "NO" })
}
const NULL: Datum = Datum::Null;
fn float8_or_null(v: Option<f64>) -> Datum {
    v.map_or(NULL, |v| Datum::Float64(crate::types::F64(v)))
}

/// A relation listed in pg_class: a user object or a system relation.
struct Relation<'a> {
    oid: u32,
    name: &'a str,
    namespace: u32,
    kind: char,
    schema: Schema,
    item: Option<&'a CatalogItem>,
}

impl Relation<'_> {
    fn namespace_name(&self) -> &'static str {
        namespace_name(self.namespace).unwrap_or("public")
    }
}

struct Ctx<'a> {
    cat: &'a Catalog,
    session: &'a SessionInfo,
}

impl<'a> Ctx<'a> {
    /// Every relation: user objects (in `public`), then the system ones.
    fn relations(&self) -> Vec<Relation<'a>> {
        let mut out: Vec<Relation<'a>> = self
            .cat
            .items()
            .map(|i| Relation {
                oid: object_oid(i.id),
                name: &i.name,
                namespace: PUBLIC,
                kind: match i.kind {
                    ItemKind::Table | ItemKind::Source => 'r',
                    ItemKind::View => 'v',
                    ItemKind::MaterializedView => 'm',
                    ItemKind::Index => 'i',
                },
                // an index's attributes are its key columns
                schema: match &i.detail {
                    ItemDetail::Index { keys, .. } => Schema::new(
                        keys.iter()
                            .filter_map(|k| i.schema.columns.get(*k).cloned())
                            .collect(),
                    ),
                    _ => i.schema.clone(),
                },
                item: Some(i),
            })
            .collect();
        out.extend(SYSTEM.iter().map(|r| Relation {
            oid: r.oid,
            name: r.name,
            namespace: r.namespace,
            kind: r.kind,
            schema: r.schema(),
            item: None,
        }));
        out
    }

    /// Index columns of a user index: the indexed relation's OID and the
    /// 1-based key column numbers.
    fn index_keys(&self, item: &CatalogItem) -> Option<(u32, Vec<i16>)> {
        match &item.detail {
            ItemDetail::Index { on, keys } => Some((
                object_oid(*on),
                keys.iter().map(|k| *k as i16 + 1).collect(),
            )),
            _ => None,
        }
    }

    fn has_index(&self, item: Option<&CatalogItem>) -> bool {
        item.is_some_and(|i| self.cat.indexes_on(i.id).next().is_some())
    }

    fn roles(&self) -> Vec<RoleInfo> {
        role_list(self.cat, self.session)
    }

    /// Ripple's own relations: `recovery` has one row per object, saying
    /// how the last start-up brought it back and when it was complete;
    /// `source_status` one per source, saying how its connector is doing.
    fn ripple_catalog(&self, name: &str) -> Vec<Vec<Datum>> {
        match name {
            "recovery" => self
                .cat
                .recovery()
                .iter()
                .map(|f| {
                    vec![
                        oid(object_oid(f.id)),
                        text(&f.name),
                        text(f.kind.noun()),
                        text(f.source),
                        int8(f.rows as i64),
                        float8_or_null(f.ready_ms),
                        float8_or_null(f.rebuilt_ms),
                    ]
                })
                .collect(),
            "source_status" => self
                .cat
                .source_statuses()
                .filter_map(|(item, s)| {
                    let ItemDetail::Source { spec, offset } = &item.detail else {
                        return None;
                    };
                    let at = |t: Option<i64>| t.map_or(NULL, Datum::TimestampTz);
                    Some(vec![
                        oid(object_oid(item.id)),
                        text(&item.name),
                        text(spec.connector()),
                        text(s.status),
                        int8(*offset as i64),
                        int8(s.rows as i64),
                        int8(s.skipped as i64),
                        s.error.as_ref().map_or(NULL, |(e, _)| text(e)),
                        at(s.error.as_ref().map(|(_, t)| *t)),
                        at(s.written_at),
                    ])
                })
                .collect(),
            _ => vec![],
        }
    }

    fn pg_catalog(&self, name: &str) -> Vec<Vec<Datum>> {
        match name {
            "pg_namespace" => NAMESPACES
                .iter()
                .map(|(o, n)| vec![oid(*o), text(n), oid(OWNER_OID), NULL])
                .collect(),
            "pg_class" => self.pg_class(),
            "pg_attribute" => self.pg_attribute(),
            "pg_type" => pg_type(),
            "pg_aggregate" => AGGREGATES
                .iter()
                .enumerate()
                .map(|(k, _)| {
                    vec![
                        oid(AGGREGATE_OIDS + k as u32),
                        text("n"),
                        int2(0),
                        oid(0),
                        oid(0),
                    ]
                })
                .collect(),
            "pg_stat_gssapi" => vec![vec![
                int4(self.session.pid),
                boolean(false),
                NULL,
                boolean(false),
            ]],
            "pg_proc" => io_functions()
                .into_iter()
                .map(|(n, o)| (n, o, if o == 0 { 0 } else { 2276 }, 'f', vec![]))
                .chain(AGGREGATES.iter().enumerate().map(|(k, (n, ret, arg))| {
                    (
                        n.to_string(),
                        AGGREGATE_OIDS + k as u32,
                        *ret,
                        'a',
                        vec![oid(*arg)],
                    )
                }))
                .map(|(n, o, ret, kind, args)| {
                    vec![
                        oid(o),
                        text(&n),
                        oid(PG_CATALOG),
                        oid(OWNER_OID),
                        oid(12),
                        float4(1.0),
                        float4(0.0),
                        oid(0),
                        oid(0),
                        text(&kind.to_string()),
                        boolean(false),
                        boolean(false),
                        boolean(true),
                        boolean(false),
                        text("i"),
                        text("s"),
                        int2(1),
                        int2(0),
                        oid(if n.ends_with("send") { 17 } else { ret }),
                        Datum::Array(args),
                        NULL,
                        NULL,
                        NULL,
                        NULL,
                        NULL,
                        text(&n),
                        NULL,
                        NULL,
                        NULL,
                        NULL,
                    ]
                })
                .collect(),
            "pg_index" => self
                .cat
                .items()
                .filter_map(|i| {
                    let (on, keys) = self.index_keys(i)?;
                    let n = keys.len() as i16;
                    Some(vec![
                        oid(object_oid(i.id)),
                        oid(on),
                        int2(n),
                        int2(n),
                        boolean(false),
                        boolean(false),
                        boolean(false),
                        boolean(false),
                        boolean(true),
                        boolean(false),
                        boolean(true),
                        boolean(false),
                        boolean(true),
                        boolean(true),
                        boolean(false),
                        Datum::Array(keys.iter().map(|k| int2(*k)).collect()),
                        Datum::Array(keys.iter().map(|_| oid(0)).collect()),
                        Datum::Array(keys.iter().map(|_| oid(0)).collect()),
                        Datum::Array(keys.iter().map(|_| int2(0)).collect()),
                        NULL,
                        NULL,
                    ])
                })
                .collect(),
            "pg_attrdef" => {
                let mut out = vec![];
                let mut next = 0u32;
                for item in self.cat.items() {
                    if let ItemDetail::Table { defaults } = &item.detail {
                        for (i, d) in defaults.iter().enumerate() {
                            if let Some(d) = d {
                                next += 1;
                                out.push(vec![
                                    oid(object_oid(item.id) * 100 + next),
                                    oid(object_oid(item.id)),
                                    int2(i as i16 + 1),
                                    text(d),
                                ]);
                            }
                        }
                    }
                }
                out
            }
            "pg_database" => vec![vec![
                oid(DATABASE_OID),
                text(DATABASE),
                oid(OWNER_OID),
                int4(6),
                text("c"),
                boolean(false),
                boolean(true),
                int4(-1),
                oid(0),
                oid(1),
                oid(1663),
                text("C"),
                text("C"),
                NULL,
                NULL,
                NULL,
            ]],
            "pg_authid" => self
                .roles()
                .into_iter()
                .map(|r| {
                    vec![
                        oid(r.oid),
                        text(&r.name),
                        boolean(r.superuser),
                        boolean(true),
                        boolean(r.create_role),
                        boolean(r.create_db),
                        boolean(r.login),
                        boolean(r.superuser),
                        boolean(r.superuser),
                        int4(-1),
                        r.password.as_deref().map(text).unwrap_or(NULL),
                        NULL,
                    ]
                })
                .collect(),
            "pg_roles" => self
                .roles()
                .into_iter()
                .map(|r| {
                    vec![
                        text(&r.name),
                        boolean(r.superuser),
                        boolean(true),
                        boolean(r.create_role),
                        boolean(r.create_db),
                        boolean(r.login),
                        boolean(r.superuser),
                        int4(-1),
                        text("********"),
                        NULL,
                        boolean(r.superuser),
                        NULL,
                        oid(r.oid),
                    ]
                })
                .collect(),
            "pg_user" => self
                .roles()
                .into_iter()
                .filter(|r| r.login)
                .map(|r| {
                    vec![
                        text(&r.name),
                        oid(r.oid),
                        boolean(r.create_db),
                        boolean(r.superuser),
                        boolean(r.superuser),
                        boolean(r.superuser),
                        text("********"),
                        NULL,
                        NULL,
                    ]
                })
                .collect(),
            "pg_settings" => SETTINGS
                .iter()
                .map(|(name, default, category, desc)| {
                    let value = self.session.setting(name).unwrap_or_default();
                    let preset = *category == "Preset Options";
                    vec![
                        text(name),
                        text(&value),
                        NULL,
                        text(category),
                        text(desc),
                        NULL,
                        text(if preset { "internal" } else { "user" }),
                        text(match *default {
                            "on" | "off" => "bool",
                            d if d.parse::<i64>().is_ok() => "integer",
                            _ => "string",
                        }),
                        text(if value == *default {
                            "default"
                        } else {
                            "session"
                        }),
                        NULL,
                        NULL,
                        NULL,
                        text(default),
                        text(default),
                        NULL,
                        NULL,
                        boolean(false),
                    ]
                })
                .collect(),
            "pg_am" => vec![
                vec![oid(2), text("heap"), oid(0), text("t")],
                vec![oid(403), text("btree"), oid(0), text("i")],
            ],
            "pg_collation" => [
                (100, "default", "d", ""),
                (950, "C", "c", "C"),
                (951, "POSIX", "c", "POSIX"),
            ]
            .into_iter()
            .map(|(o, n, p, c)| {
                vec![
                    oid(o),
                    text(n),
                    oid(PG_CATALOG),
                    oid(OWNER_OID),
                    text(p),
                    boolean(true),
                    int4(-1),
                    if c.is_empty() { NULL } else { text(c) },
                    if c.is_empty() { NULL } else { text(c) },
                    NULL,
                    NULL,
                ]
            })
            .collect(),
            "pg_views" | "pg_matviews" => {
                let kind = if name == "pg_views" {
                    ItemKind::View
                } else {
                    ItemKind::MaterializedView
                };
                self.cat
                    .items()
                    .filter(|i| i.kind == kind)
                    .map(|i| {
                        let def = text(&view_def(i).unwrap_or_default());
                        if kind == ItemKind::View {
                            vec![text("public"), text(&i.name), text(OWNER), def]
                        } else {
                            vec![
                                text("public"),
                                text(&i.name),
                                text(OWNER),
                                NULL,
                                boolean(self.has_index(Some(i))),
                                boolean(true),
                                def,
                            ]
                        }
                    })
                    .collect()
            }
            "pg_tables" => {
                let mut out: Vec<Vec<Datum>> = self
                    .relations()
                    .iter()
                    .filter(|r| r.kind == 'r')
                    .map(|r| {
                        vec![
                            text(r.namespace_name()),
                            text(r.name),
                            text(OWNER),
                            NULL,
                            boolean(self.has_index(r.item)),
                            boolean(false),
                            boolean(false),
                            boolean(false),
                        ]
                    })
                    .collect();
                out.sort_by(|a, b| a[0].cmp(&b[0]).then(a[1].cmp(&b[1])));
                out
            }
            "pg_indexes" => self
                .cat
                .items()
                .filter_map(|i| {
                    let ItemDetail::Index { on, .. } = &i.detail else {
                        return None;
                    };
                    Some(vec![
                        text("public"),
                        text(&self.cat.get(*on)?.name),
                        text(&i.name),
                        NULL,
                        text(&index_def(self.cat, i)?),
                    ])
                })
                .collect(),
            "pg_stat_user_tables" => self
                .cat
                .items()
                .filter(|i| {
                    matches!(
                        i.kind,
                        ItemKind::Table | ItemKind::Source | ItemKind::MaterializedView
                    )
                })
                .map(|i| {
                    let mut r = vec![oid(object_oid(i.id)), text("public"), text(&i.name)];
                    r.extend(std::iter::repeat_n(int8(0), 12));
                    r.extend([NULL; 4]);
                    r.extend(std::iter::repeat_n(int8(0), 4));
                    r
                })
                .collect(),
            "pg_stat_activity" => self
                .session
                .backends
                .iter()
                .map(|b| {
                    let start = Datum::TimestampTz(b.backend_start);
                    vec![
                        oid(DATABASE_OID),
                        text(DATABASE),
                        int4(b.pid),
                        NULL,
                        oid(OWNER_OID),
                        text(&b.user),
                        text(&b.application_name),
                        b.client_addr.as_deref().map_or(NULL, text),
                        NULL,
                        int4(-1),
                        start.clone(),
                        NULL,
                        NULL,
                        start,
                        NULL,
                        NULL,
                        text(&b.state),
                        NULL,
                        NULL,
                        NULL,
                        text(&b.query),
                        text("client backend"),
                    ]
                })
                .collect(),
            "pg_get_keywords" => {
                let mut words: Vec<(&str, &str)> = RESERVED.iter().map(|w| (*w, "R")).collect();
                words.extend(UNRESERVED.iter().map(|w| (*w, "U")));
                words.extend(COLUMN_NAME_KEYWORDS.iter().map(|w| (*w, "C")));
                words.sort();
                words
                    .into_iter()
                    .map(|(w, code)| {
                        let desc = match code {
                            "R" => "reserved",
                            "C" => "unreserved (cannot be function or type name)",
                            _ => "unreserved",
                        };
                        vec![
                            text(w),
                            text(code),
                            boolean(true),
                            text(desc),
                            text("can be bare label"),
                        ]
                    })
                    .collect()
            }
            "pg_tablespace" => vec![
                vec![oid(1663), text("pg_default"), oid(OWNER_OID), NULL, NULL],
                vec![oid(1664), text("pg_global"), oid(OWNER_OID), NULL, NULL],
            ],
            "pg_language" => [(12, "internal"), (13, "c"), (14, "sql")]
                .into_iter()
                .map(|(o, n)| {
                    vec![
                        oid(o),
                        text(n),
                        oid(OWNER_OID),
                        boolean(false),
                        boolean(n == "sql"),
                        oid(0),
                        oid(0),
                        oid(0),
                        NULL,
                    ]
                })
                .collect(),
            _ => vec![],
        }
    }

    fn pg_class(&self) -> Vec<Vec<Datum>> {
        self.relations()
            .iter()
            .map(|r| {
                let am = match r.kind {
                    'r' | 'm' => 2,
                    'i' => 403,
                    _ => 0,
                };
                vec![
                    oid(r.oid),
                    text(r.name),
                    oid(r.namespace),
                    oid(0),
                    oid(0),
                    oid(OWNER_OID),
                    oid(am),
                    oid(if am == 0 { 0 } else { r.oid }),
                    oid(0),
                    int4(0),
                    float4(-1.0),
                    int4(0),
                    oid(0),
                    boolean(self.has_index(r.item)),
                    boolean(false),
                    text("p"),
                    text(&r.kind.to_string()),
                    int2(r.schema.len() as i16),
                    int2(0),
                    boolean(false),
                    boolean(false),
                    boolean(false),
                    boolean(false),
                    boolean(false),
                    boolean(true),
                    text("d"),
                    boolean(false),
                    oid(0),
                    oid(0),
                    oid(0),
                    NULL,
                    NULL,
                    NULL,
                ]
            })
            .collect()
    }

    fn pg_attribute(&self) -> Vec<Vec<Datum>> {
        let mut out = vec![];
        for r in self.relations() {
            let defaults = match r.item.map(|i| &i.detail) {
                Some(ItemDetail::Table { defaults }) => defaults.clone(),
                _ => vec![],
            };
            for (i, c) in r.schema.columns.iter().enumerate() {
                let t = c.ty.oid();
                let info = TYPES.iter().find(|b| b.oid == t);
                let len = info.map_or(-1, |b| b.len);
                out.push(vec![
                    oid(r.oid),
                    text(&c.name),
                    oid(t),
                    int4(-1),
                    int2(len),
                    int2(i as i16 + 1),
                    int4(matches!(c.ty, ScalarType::Array(_)) as i32),
                    int4(-1),
                    int4(typmod(c.ty)),
                    boolean(info.is_some_and(|b| b.byval)),
                    text(if len == -1 { "i" } else { "d" }),
                    text(if len == -1 { "x" } else { "p" }),
                    text(""),
                    boolean(!c.nullable),
                    boolean(defaults.get(i).is_some_and(|d| d.is_some())),
                    boolean(false),
                    text(""),
                    text(""),
                    boolean(false),
                    boolean(true),
                    int4(0),
                    oid(if c.ty.is_string() { 100 } else { 0 }),
                    NULL,
                    NULL,
                    NULL,
                    NULL,
                ]);
            }
        }
        out
    }

    fn information_schema(&self, name: &str) -> Vec<Vec<Datum>> {
        let relations = self.relations();
        // as in PostgreSQL, indexes and materialized views are not listed
        // (Metabase adds materialized views' columns from pg_attribute);
        // nor are Ripple's own relations, which BI tools would otherwise
        // offer next to the user's (they filter out only pg_catalog and
        // information_schema)
        let visible = || {
            relations
                .iter()
                .filter(|r| r.kind != 'i' && r.kind != 'm' && r.namespace != RIPPLE_CATALOG)
        };
        match name {
            "schemata" => NAMESPACES
                .iter()
                .map(|(_, n)| vec![text(DATABASE), text(n), text(OWNER), NULL, NULL, NULL, NULL])
                .collect(),
            "tables" => visible()
                .map(|r| {
                    let table_type = match (r.kind, r.namespace) {
                        ('r', PG_CATALOG) | ('r', PUBLIC) => "BASE TABLE",
                        _ => "VIEW",
                    };
                    vec![
                        text(DATABASE),
                        text(r.namespace_name()),
                        text(r.name),
                        text(table_type),
                        NULL,
                        NULL,
                        NULL,
                        NULL,
                        NULL,
                        yes_no(r.kind == 'r' && r.namespace == PUBLIC),
                        text("NO"),
                        NULL,
                    ]
                })
                .collect(),
            "columns" => {
                let mut out = vec![];
                for r in visible() {
                    let defaults = match r.item.map(|i| &i.detail) {
                        Some(ItemDetail::Table { defaults }) => defaults.clone(),
                        _ => vec![],
                    };
                    for (i, c) in r.schema.columns.iter().enumerate() {
                        out.push(self.column_row(r, i, c, defaults.get(i).cloned().flatten()));
                    }
                }
                out
            }
            "views" => visible()
                .filter(|r| r.kind == 'v')
                .map(|r| {
                    vec![
                        text(DATABASE),
                        text(r.namespace_name()),
                        text(r.name),
                        r.item.and_then(view_def).map_or(NULL, |d| text(&d)),
                        text("NONE"),
                        text("NO"),
                        text("NO"),
                        text("NO"),
                        text("NO"),
                        text("NO"),
                    ]
                })
                .collect(),
            "character_sets" => vec![vec![
                NULL,
                NULL,
                text("UTF8"),
                text("UCS"),
                text("UTF8"),
                text(DATABASE),
                text("pg_catalog"),
                text("C"),
            ]],
            _ => vec![],
        }
    }

    fn column_row(
        &self,
        r: &Relation,
        i: usize,
        c: &Column,
        default: Option<String>,
    ) -> Vec<Datum> {
        use ScalarType::*;
        let (data_type, udt) = match c.ty {
            Array(e) => (
                "ARRAY".to_string(),
                type_name(e.array_oid()).unwrap_or_default(),
            ),
            t => {
                let name = match t {
                    Varchar(_) => "character varying".into(),
                    Char(_) => "character".into(),
                    Numeric(_) => "numeric".into(),
                    t => t.name(),
                };
                (name, type_name(t.oid()).unwrap_or_default())
            }
        };
        let (char_len, octet_len) = match c.ty {
            Varchar(Some(n)) | Char(n) => (int4(n as i32), int4(n as i32 * 4)),
            Text | Varchar(None) => (NULL, int4(1073741824)),
            _ => (NULL, NULL),
        };
        let (precision, radix, scale) = match c.ty {
            Int16 => (int4(16), int4(2), int4(0)),
            Int32 => (int4(32), int4(2), int4(0)),
            Int64 => (int4(64), int4(2), int4(0)),
            Float32 => (int4(24), int4(2), NULL),
            Float64 => (int4(53), int4(2), NULL),
            Numeric(Some((p, s))) => (int4(p as i32), int4(10), int4(s as i32)),
            Numeric(None) => (NULL, int4(10), NULL),
            _ => (NULL, NULL, NULL),
        };
        let datetime = match c.ty {
            Date => int4(0),
            Timestamp | TimestampTz | Interval => int4(6),
            _ => NULL,
        };
        let updatable = r.kind == 'r' && r.namespace == PUBLIC;
        vec![
            text(DATABASE),
            text(r.namespace_name()),
            text(r.name),
            text(&c.name),
            int4(i as i32 + 1),
            default.map_or(NULL, |d| text(&d)),
            yes_no(c.nullable),
            text(&data_type),
            char_len,
            octet_len,
            precision,
            radix,
            scale,
            datetime,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            text(DATABASE),
            text("pg_catalog"),
            text(&udt),
            NULL,
            NULL,
            NULL,
            NULL,
            text(&(i + 1).to_string()),
            text("NO"),
            text("NO"),
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            text("NO"),
            text("NEVER"),
            NULL,
            yes_no(updatable),
        ]
    }
}

fn pg_type() -> Vec<Vec<Datum>> {
    let io = io_functions();
    let f = |name: &str| oid(io.iter().find(|(n, _)| n == name).map_or(0, |(_, o)| *o));
    let mut out = vec![];
    let row = |t: &BuiltinType,
               name: String,
               o: u32,
               elem: u32,
               array: u32,
               io: &str,
               len: i16,
               byval: bool,
               category: char| {
        vec![
            oid(o),
            text(&name),
            oid(PG_CATALOG),
            oid(OWNER_OID),
            int2(len),
            boolean(byval),
            text(&t.typtype.to_string()),
            text(&category.to_string()),
            boolean(
                matches!(
                    t.name,
                    "text" | "float8" | "bool" | "timestamptz" | "oid" | "interval"
                ) && category != 'A',
            ),
            boolean(true),
            text(","),
            oid(0),
            oid(0),
            oid(elem),
            oid(array),
            f(&format!("{io}in")),
            f(&format!("{io}out")),
            f(&format!("{io}recv")),
            f(&format!("{io}send")),
            oid(0),
            oid(0),
            oid(0),
            text(if len == -1 || len > 8 {
                "i"
            } else if len == 8 {
                "d"
            } else {
                "c"
            }),
            text(if len == -1 { "x" } else { "p" }),
            boolean(false),
            oid(0),
            int4(-1),
            int4(0),
            oid(
                if matches!(t.name, "text" | "varchar" | "bpchar" | "name") {
                    100
                } else {
                    0
                },
            ),
            NULL,
            NULL,
            NULL,
        ]
    };
    for t in TYPES {
        out.push(row(
            t,
            t.name.to_string(),
            t.oid,
            0,
            t.array,
            t.io,
            t.len,
            t.byval,
            t.category,
        ));
    }
    for t in TYPES.iter().filter(|t| t.array != 0) {
        out.push(row(
            t,
            format!("_{}", t.name),
            t.array,
            t.oid,
            0,
            "array_",
            -1,
            false,
            'A',
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_relation_has_rows_of_its_arity() {
        let mut cat = Catalog::new();
        let t = cat.allocate_id();
        cat.insert(CatalogItem {
            id: t,
            name: "t".into(),
            kind: ItemKind::Table,
            schema: Schema::new(vec![Column {
                name: "a".into(),
                ty: ScalarType::Varchar(Some(10)),
                nullable: true,
                origin: None,
            }]),
            uses: vec![],
            detail: ItemDetail::Table {
                defaults: vec![Some("1".into())],
            },
        })
        .unwrap();
        let i = cat.allocate_id();
        cat.insert(CatalogItem {
            id: i,
            name: "t_a".into(),
            kind: ItemKind::Index,
            schema: cat.get(t).unwrap().schema.clone(),
            uses: vec![t],
            detail: ItemDetail::Index {
                on: t,
                keys: vec![0],
            },
        })
        .unwrap();
        let session = SessionInfo {
            user: "alice".into(),
            backends: vec![Backend::default()],
            ..Default::default()
        };
        for r in SYSTEM {
            let arity = r.schema().len();
            for row in r.rows(&cat, &session) {
                assert_eq!(row.len(), arity, "{}", r.name);
            }
        }
        let names: Vec<_> = SYSTEM.iter().map(|r| (r.namespace, r.name)).collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names.len(), unique.len());
    }

    #[test]
    fn types_format_as_postgresql_does() {
        assert_eq!(format_type(23, None), "integer");
        assert_eq!(format_type(1043, Some(14)), "character varying(10)");
        assert_eq!(
            format_type(1700, Some(typmod(ScalarType::Numeric(Some((10, 2)))))),
            "numeric(10,2)"
        );
        assert_eq!(format_type(1007, None), "integer[]");
        assert_eq!(type_oid("integer"), Some(23));
        assert_eq!(type_oid("pg_catalog.int4[]"), Some(1007));
        assert_eq!(quote_ident("Foo"), "\"Foo\"");
        assert_eq!(quote_ident("select"), "\"select\"");
        assert_eq!(quote_ident("a_1"), "a_1");
        assert!(proc_oid("array_in").is_some());
    }
}
