//! Sign-in through a real OpenLDAP server (Debian's `slapd`, started here on
//! a free port with a test tree), over real HTTP through the login form, on
//! SQLite and PostgreSQL: the directory password gives a session with the
//! mapped role and section; a wrong password, a disabled account (Active
//! Directory's userAccountControl bit 2), an unknown user and a user in no
//! mapped group are refused; a group change in the directory changes the
//! role at the next sign-in; a local administrator still signs in when the
//! directory is down; StartTLS and LDAPS with the city's CA.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use citykpi_app::directory::DirectoryConfig;
use citykpi_domain::org::Role;
use citykpi_store::Backend;
use citykpi_web::WebConfig;
use common::{App, Client, PASSWORD, spawn_with};
use reqwest::StatusCode;

const SUFFIX: &str = "dc=city,dc=example";
const ROOT_DN: &str = "cn=admin,dc=city,dc=example";
const ROOT_PW: &str = "root-secret-1";
const SVC_DN: &str = "cn=citykpi,ou=services,dc=city,dc=example";
const SVC_PW: &str = "service-secret-1";
const KIKAKU: &str = "cn=kikaku,ou=groups,dc=city,dc=example";
const KYOIKU: &str = "cn=kyoiku-editors,ou=groups,dc=city,dc=example";
const VIEWERS: &str = "cn=viewers,ou=groups,dc=city,dc=example";

/// Active Directory's attribute for the disabled bit, declared for slapd.
const AD_SCHEMA: &str = "attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.11.99.1 NAME 'cityAccount' AUXILIARY
  MAY userAccountControl )
";

fn person(uid: &str, name: &str, password: &str, extra: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nobjectClass: cityAccount\n\
         uid: {uid}\ncn: {name}\nsn: {name}\ndisplayName: {name}\nmail: {uid}@city.example\n\
         userPassword: {password}\n{extra}\n\n"
    )
}

fn group(cn: &str, members: &[&str]) -> String {
    let mut s = format!("dn: cn={cn},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {cn}\n");
    for m in members {
        s.push_str(&format!("member: uid={m},ou=people,{SUFFIX}\n"));
    }
    s + "\n"
}

fn tree() -> String {
    let mut s = format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: city\no: City\n\n\
         dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n\
         dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services\n\n\
         dn: {SVC_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n\
         cn: citykpi\nuserPassword: {SVC_PW}\n\n"
    );
    s += &person(
        "yamada.hanako",
        "山田 花子",
        "Yamada-dir-pass-1",
        "userAccountControl: 512",
    );
    s += &person(
        "sato.jiro",
        "佐藤 次郎",
        "Sato-dir-pass-22",
        "userAccountControl: 512",
    );
    s += &person(
        "suzuki.off",
        "鈴木 停止",
        "Suzuki-dir-pass-3",
        "userAccountControl: 514",
    );
    s += &person("tanaka.nogroup", "田中 無所属", "Tanaka-dir-pass-4", "");
    s += &group("kikaku", &["yamada.hanako", "suzuki.off"]);
    s += &group("kyoiku-editors", &["sato.jiro"]);
    s += &group("viewers", &["tanaka.nogroup"]);
    s
}

/// A slapd with the test tree, killed when dropped.
struct Slapd {
    child: Child,
    dir: tempfile::TempDir,
    url: String,
    ldaps_url: String,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it (openssl).
fn make_certs(dir: &Path) {
    let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
    run(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=City test CA",
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.pem"),
    ]));
    run(Command::new("openssl").args([
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &p("server.key"),
        "-out",
        &p("server.csr"),
    ]));
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(Command::new("openssl").args([
        "x509",
        "-req",
        "-in",
        &p("server.csr"),
        "-CA",
        &p("ca.pem"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &p("ext.cnf"),
        "-out",
        &p("server.pem"),
    ]));
}

fn start_slapd() -> Slapd {
    let dir = tempfile::tempdir().expect("temporary directory");
    let d = dir.path();
    std::fs::create_dir(d.join("db")).unwrap();
    std::fs::write(d.join("ad.schema"), AD_SCHEMA).unwrap();
    make_certs(d);
    let conf = format!(
        "include /etc/ldap/schema/core.schema\n\
         include /etc/ldap/schema/cosine.schema\n\
         include /etc/ldap/schema/inetorgperson.schema\n\
         include {d}/ad.schema\n\
         pidfile {d}/slapd.pid\n\
         modulepath /usr/lib/ldap\n\
         moduleload back_mdb\n\
         TLSCACertificateFile {d}/ca.pem\n\
         TLSCertificateFile {d}/server.pem\n\
         TLSCertificateKeyFile {d}/server.key\n\
         database mdb\n\
         maxsize 10485760\n\
         suffix \"{SUFFIX}\"\n\
         rootdn \"{ROOT_DN}\"\n\
         rootpw {ROOT_PW}\n\
         directory {d}/db\n\
         access to attrs=userPassword by anonymous auth by self read by * none\n\
         access to * by dn.exact=\"{SVC_DN}\" read by self read by * none\n",
        d = d.display()
    );
    std::fs::write(d.join("slapd.conf"), conf).unwrap();
    std::fs::write(d.join("tree.ldif"), tree()).unwrap();
    let conf_path = d.join("slapd.conf");
    run(Command::new("slapadd")
        .arg("-f")
        .arg(&conf_path)
        .arg("-l")
        .arg(d.join("tree.ldif")));
    let (port, tls_port) = (free_port(), free_port());
    let url = format!("ldap://127.0.0.1:{port}");
    let ldaps_url = format!("ldaps://127.0.0.1:{tls_port}");
    let child = Command::new("slapd")
        .arg("-h")
        .arg(format!("{url}/ {ldaps_url}/"))
        .arg("-f")
        .arg(&conf_path)
        // -d keeps it in the foreground, so this child is slapd itself.
        .args(["-d", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("slapd (Debian's slapd package; .ci/run installs it)");
    let slapd = Slapd {
        child,
        dir,
        url,
        ldaps_url,
    };
    for _ in 0..100 {
        let ok = Command::new("ldapsearch")
            .args([
                "-x", "-H", &slapd.url, "-D", ROOT_DN, "-w", ROOT_PW, "-b", SUFFIX, "-s", "base",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return slapd;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("slapd did not answer at {}", slapd.url);
}

impl Slapd {
    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Changes the directory as its administrator (ldapmodify).
    fn modify(&self, ldif: &str) {
        let path = self.dir.path().join("change.ldif");
        std::fs::write(&path, ldif).unwrap();
        run(Command::new("ldapmodify")
            .args(["-x", "-H", &self.url, "-D", ROOT_DN, "-w", ROOT_PW, "-f"])
            .arg(&path));
    }

    fn config(&self, url: &str, starttls: bool, sections: (&str, &str, &str)) -> DirectoryConfig {
        let (kikaku, kyoiku, viewers) = sections;
        DirectoryConfig::from_vars(|name| {
            Some(
                match name {
                    "CITYKPI_LDAP_URL" => url.to_string(),
                    "CITYKPI_LDAP_BIND_DN" => SVC_DN.to_string(),
                    "CITYKPI_LDAP_BIND_PASSWORD" => SVC_PW.to_string(),
                    "CITYKPI_LDAP_BASE_DN" => SUFFIX.to_string(),
                    "CITYKPI_LDAP_GROUP_MAP" => format!(
                        "{KIKAKU}=strategy_office:{kikaku};{KYOIKU}=department_editor:{kyoiku};{VIEWERS}=viewer:{viewers}"
                    ),
                    "CITYKPI_LDAP_STARTTLS" => starttls.to_string(),
                    "CITYKPI_LDAP_CA_FILE" => self.ca().display().to_string(),
                    _ => return None,
                }
                .to_string(),
            )
        })
        .expect("directory settings")
        .expect("directory configured")
    }
}

/// Sections of the demo city in three departments (`{department}-{nn}`).
const SECTIONS: (&str, &str, &str) = ("SHICHO-01", "KYOIKU-01", "SOMU-01");

/// Logs in through the form; the status and, when logged in, the account page.
async fn sign_in(app: &App, login: &str, password: &str) -> (StatusCode, Client, String) {
    let mut c = app.client();
    let status = c.login(login, password).await;
    let page = if status == StatusCode::SEE_OTHER {
        c.get("/account").await.body
    } else {
        String::new()
    };
    (status, c, page)
}

async fn app_with(backend: Backend, slapd: &Slapd, url: &str, starttls: bool) -> App {
    let app = spawn_with(
        backend,
        WebConfig {
            ldap: Some(slapd.config(url, starttls, SECTIONS)),
            ..WebConfig::default()
        },
    )
    .await;
    let codes: Vec<String> = app
        .store
        .sections()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.code)
        .collect();
    for code in [SECTIONS.0, SECTIONS.1, SECTIONS.2] {
        assert!(codes.iter().any(|c| c == code), "demo section {code}");
    }
    app
}

async fn directory_sign_in(backend: Backend) {
    let slapd = start_slapd();
    let app = app_with(backend, &slapd, &slapd.url.clone(), false).await;
    let (kikaku, kyoiku, _) = SECTIONS;

    // The directory password: a session with the mapped role and section,
    // and a local account without a local password.
    let (status, c, page) = sign_in(&app, "yamada.hanako", "Yamada-dir-pass-1").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        page.contains("山田 花子") && page.contains(kikaku),
        "{page}"
    );
    let u = app
        .store
        .user("yamada.hanako")
        .await
        .unwrap()
        .expect("created");
    assert_eq!(u.role, Role::StrategyOffice);
    assert_eq!(u.section_code, kikaku);
    assert_eq!(u.email.as_deref(), Some("yamada.hanako@city.example"));
    assert_eq!(
        app.store.user_password_hash("yamada.hanako").await.unwrap(),
        None
    );
    // The strategy office reads the audit log; a viewer would not.
    assert_eq!(c.get("/admin/audit").await.status, StatusCode::OK);

    let (status, _, page) = sign_in(&app, "sato.jiro", "Sato-dir-pass-22").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(page.contains(kyoiku), "{page}");
    let u = app.store.user("sato.jiro").await.unwrap().unwrap();
    assert_eq!(u.role, Role::DepartmentEditor);
    assert_eq!(app.department_of(&u.section_code).await, "KYOIKU");

    // Refused, with the local sign-in's message: a wrong password, a
    // disabled account (its password is right), an unknown user, an empty
    // password (an unauthenticated bind would succeed), a filter injection.
    for (login, password) in [
        ("yamada.hanako", "Yamada-dir-pass-2"),
        ("suzuki.off", "Suzuki-dir-pass-3"),
        ("nobody.here", "Nobody-pass-123"),
        ("yamada.hanako", ""),
        ("*", "Yamada-dir-pass-1"),
        ("yamada.hanako)(uid=*", "Yamada-dir-pass-1"),
    ] {
        let mut c = app.client();
        assert_eq!(
            c.login(login, password).await,
            StatusCode::UNAUTHORIZED,
            "{login}"
        );
        let form = c.get("/login").await;
        assert_eq!(form.status, StatusCode::OK);
    }
    let c = app.client();
    let form = c.get("/login").await;
    let token = common::csrf_in(&form.body).unwrap();
    let r = c
        .post_raw_form(
            "/login",
            &[
                ("csrf", &token),
                ("login", "suzuki.off"),
                ("password", "Suzuki-dir-pass-3"),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.body
            .contains("ログインIDまたはパスワードが正しくありません"),
        "{}",
        r.body
    );
    assert!(app.store.user("suzuki.off").await.unwrap().is_none());
    assert!(app.store.user("nobody.here").await.unwrap().is_none());

    // The group change in the directory changes the role at the next sign-in.
    slapd.modify(&format!(
        "dn: {KIKAKU}\nchangetype: modify\ndelete: member\nmember: uid=yamada.hanako,ou=people,{SUFFIX}\n\n\
         dn: {VIEWERS}\nchangetype: modify\nadd: member\nmember: uid=yamada.hanako,ou=people,{SUFFIX}\n"
    ));
    let (status, c, _) = sign_in(&app, "yamada.hanako", "Yamada-dir-pass-1").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let u = app.store.user("yamada.hanako").await.unwrap().unwrap();
    assert_eq!(u.role, Role::Viewer);
    assert_eq!(c.get("/admin/audit").await.status, StatusCode::FORBIDDEN);
    // Out of every mapped group: refused.
    slapd.modify(&format!(
        "dn: {VIEWERS}\nchangetype: modify\ndelete: member\nmember: uid=yamada.hanako,ou=people,{SUFFIX}\n"
    ));
    let (status, _, _) = sign_in(&app, "yamada.hanako", "Yamada-dir-pass-1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The account's creation and its role change are in the audit log.
    let entries = app.store.audit_entries(200, 0).await.unwrap();
    let by_ldap: Vec<_> = entries
        .iter()
        .filter(|e| e.actor == "ldap:yamada.hanako")
        .collect();
    assert_eq!(by_ldap.len(), 2, "{by_ldap:?}");

    // The local administrator still signs in, also with the directory down;
    // a directory user then gets the "directory down" message.
    let admin = app.user_with(Role::Admin).await;
    // The settings page shows what is configured, the service password hidden.
    let settings = app.login(&admin.login).await.get("/admin/sign-in").await;
    assert_eq!(settings.status, StatusCode::OK);
    for shown in [
        slapd.url.as_str(),
        SUFFIX,
        SVC_DN,
        KYOIKU,
        "(uid={login})",
        "●●●●",
        "userAccountControl &amp; 2",
    ] {
        assert!(settings.body.contains(shown), "{shown}: {}", settings.body);
    }
    assert!(!settings.body.contains(SVC_PW));
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    assert_eq!(
        viewer.get("/admin/sign-in").await.status,
        StatusCode::FORBIDDEN
    );
    drop(slapd);
    let mut c = app.client();
    assert_eq!(c.login(&admin.login, PASSWORD).await, StatusCode::SEE_OTHER);
    let mut c = app.client();
    assert_eq!(
        c.login("sato.jiro", "Sato-dir-pass-22").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
}
both!(directory_sign_in, directory_sign_in);

/// StartTLS on ldap:// and ldaps://, each trusting the city's CA file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_and_ldaps() {
    let slapd = start_slapd();
    for (url, starttls) in [(slapd.url.clone(), true), (slapd.ldaps_url.clone(), false)] {
        let app = app_with(Backend::Sqlite, &slapd, &url, starttls).await;
        let (status, _, page) = sign_in(&app, "sato.jiro", "Sato-dir-pass-22").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{url} starttls={starttls}");
        assert!(page.contains("佐藤 次郎"), "{page}");
        // The login limit applies to directory sign-ins: after five wrong
        // passwords the right one is refused too.
        for _ in 0..5 {
            let (status, _, _) = sign_in(&app, "sato.jiro", "wrong-password-9").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let (status, _, _) = sign_in(&app, "sato.jiro", "Sato-dir-pass-22").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    // Without the CA the server's certificate is not trusted: no sign-in.
    let mut cfg = slapd.config(&slapd.ldaps_url, false, ("x", "y", "z"));
    cfg.ca_file = None;
    let store_app = common::spawn(Backend::Sqlite).await;
    let r =
        citykpi_app::directory::sign_in(&store_app.store, &cfg, "sato.jiro", "Sato-dir-pass-22")
            .await;
    assert!(r.is_err(), "{r:?}");
}
