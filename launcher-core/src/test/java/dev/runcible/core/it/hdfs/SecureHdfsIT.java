package dev.runcible.core.it.hdfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.ImageReference;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import dev.runcible.core.it.Cli;
import dev.runcible.core.it.RealNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.minikdc.MiniKdc;
import org.apache.hadoop.security.UserGroupInformation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A Kerberized HDFS: a real KDC (Apache Kerby, through Hadoop's MiniKdc, on 127.0.0.1), and a NameNode and DataNode
 * that authenticate with it, with SASL protecting block transfers, in this JVM. Runcible logs in from its own
 * keytab, launches from the store, imports into it, says clearly when the keytab or principal is wrong, and keeps
 * working past its one-minute ticket.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecureHdfsIT {
    private static RealNode node;
    private static MiniKdc kdc;
    private static MiniDFSCluster cluster;
    private static Path keytab;
    private static Path siteDir;
    private static String realm;
    private static String root;
    private static int configs;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        Path kdcDir = Files.createDirectories(node.base.resolve("kdc"));
        Properties kdcConf = MiniKdc.createConf();
        kdcConf.setProperty(MiniKdc.KDC_BIND_ADDRESS, "127.0.0.1");
        kdcConf.setProperty(MiniKdc.MAX_TICKET_LIFETIME, "60000");
        kdcConf.setProperty(MiniKdc.MAX_RENEWABLE_LIFETIME, "60000");
        kdc = new MiniKdc(kdcConf, kdcDir.toFile());
        kdc.start();
        realm = kdc.getRealm();
        keytab = kdcDir.resolve("cluster.keytab");
        kdc.createPrincipal(keytab.toFile(), "hdfs/localhost", "HTTP/localhost", "runcible/localhost");
        Path other = kdcDir.resolve("other.keytab");
        kdc.createPrincipal(other.toFile(), "stranger/localhost");

        Configuration conf = new Configuration();
        Map<String, String> secure = secureSettings();
        secure.forEach(conf::set);
        conf.set("dfs.namenode.keytab.file", keytab.toString());
        conf.set("dfs.datanode.keytab.file", keytab.toString());
        conf.set("dfs.web.authentication.kerberos.principal", "HTTP/localhost@" + realm);
        conf.set("dfs.block.access.token.enable", "true");
        conf.set("dfs.http.policy", "HTTPS_ONLY");
        conf.set("dfs.namenode.https-address", "localhost:0");
        conf.set("dfs.datanode.https.address", "localhost:0");
        conf.set("dfs.namenode.safemode.extension", "0");
        conf.set("dfs.replication", "1");
        // The DataNode refuses SASL block transfers without HTTPS: a keystore made for this test only.
        sslConfig();
        conf.set("dfs.client.https.keystore.resource", SSL_CLIENT);
        conf.set("dfs.https.server.keystore.resource", SSL_SERVER);
        conf.set("hadoop.ssl.server.conf", SSL_SERVER);
        conf.set("hadoop.ssl.client.conf", SSL_CLIENT);
        UserGroupInformation.setConfiguration(conf);
        cluster = new MiniDFSCluster.Builder(conf, node.base.resolve("secure-hdfs").toFile()).numDataNodes(1).build();
        cluster.waitActive();
        root = "hdfs://localhost:" + cluster.getNameNodePort() + "/secure-root";
        // As an operator would: the store's directory belongs to the launcher's principal (the cluster's
        // superuser, logged in from the cluster's keytab, makes it).
        org.apache.hadoop.fs.FileSystem admin = cluster.getFileSystem();
        admin.mkdirs(new org.apache.hadoop.fs.Path("/secure-root"));
        admin.setOwner(new org.apache.hadoop.fs.Path("/secure-root"), "runcible", "runcible");
        // What an operator's hadoop.conf.dir holds for the client: the cluster's principals and protection.
        siteDir = Files.createDirectories(node.base.resolve("hadoop-conf"));
        StringBuilder site = new StringBuilder("<configuration>\n");
        secure.forEach((key, value) -> site.append("<property><name>").append(key).append("</name><value>")
                .append(value).append("</value></property>\n"));
        Files.writeString(siteDir.resolve("hdfs-site.xml"), site.append("</configuration>\n").toString());
        Files.writeString(siteDir.resolve("core-site.xml"), "<configuration>\n<property><name>"
                + "hadoop.security.authentication</name><value>kerberos</value></property>\n</configuration>\n");
    }

    private static final String SSL_SERVER = "runcible-secure-hdfs-ssl-server.xml";
    private static final String SSL_CLIENT = "runcible-secure-hdfs-ssl-client.xml";

    /** Hadoop reads its SSL settings as class path resources: the test classes directory is one. */
    private static Path classpathDir() throws Exception {
        return Path.of(SecureHdfsIT.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** A self-signed key pair for localhost made with the JDK's keytool, and the SSL files naming it. */
    private static void sslConfig() throws Exception {
        Path keystore = Files.createDirectories(node.base.resolve("keystores")).resolve("localhost.jks");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "localhost", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
                "-validity", "2", "-keystore", keystore.toString(), "-storetype", "JKS", "-storepass", "changeit",
                "-keypass", "changeit").redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes());
        assertThat(keytool.waitFor()).as(output).isZero();
        Files.writeString(classpathDir().resolve(SSL_SERVER), sslXml(Map.of(
                "ssl.server.keystore.location", keystore.toString(), "ssl.server.keystore.password", "changeit",
                "ssl.server.keystore.keypassword", "changeit", "ssl.server.keystore.type", "jks",
                "ssl.server.truststore.location", keystore.toString(), "ssl.server.truststore.password", "changeit",
                "ssl.server.truststore.type", "jks")));
        Files.writeString(classpathDir().resolve(SSL_CLIENT), sslXml(Map.of(
                "ssl.client.truststore.location", keystore.toString(), "ssl.client.truststore.password", "changeit",
                "ssl.client.truststore.type", "jks")));
    }

    private static String sslXml(Map<String, String> properties) {
        StringBuilder xml = new StringBuilder("<configuration>\n");
        properties.forEach((key, value) -> xml.append("<property><name>").append(key).append("</name><value>")
                .append(value).append("</value></property>\n"));
        return xml.append("</configuration>\n").toString();
    }

    private static Map<String, String> secureSettings() {
        Map<String, String> secure = new HashMap<>();
        secure.put("hadoop.security.authentication", "kerberos");
        secure.put("hadoop.security.authorization", "true");
        secure.put("dfs.namenode.kerberos.principal", "hdfs/localhost@" + realm);
        secure.put("dfs.datanode.kerberos.principal", "hdfs/localhost@" + realm);
        secure.put("dfs.data.transfer.protection", "authentication");
        // A one-minute ticket may be renewed well before the default minute between logins has passed.
        secure.put("hadoop.kerberos.min.seconds.before.relogin", "5");
        return secure;
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (cluster != null) {
            cluster.shutdown();
        }
        if (kdc != null) {
            kdc.stop();
        }
        Files.deleteIfExists(classpathDir().resolve(SSL_SERVER));
        Files.deleteIfExists(classpathDir().resolve(SSL_CLIENT));
        // The JVM's Hadoop security state is global: the next test class gets a simple one again.
        UserGroupInformation.reset();
        UserGroupInformation.setConfiguration(new Configuration());
        if (node != null) {
            node.close();
        }
    }

    private static Map<String, String> settings(String principal, Path keytabFile) {
        Map<String, String> settings = new HashMap<>(node.settingsFor(Map.of(
                "runcible.image.tag-to-manifest", "hdfs",
                "runcible.image.manifest-to-resources", "hdfs",
                "hdfs.root", root,
                "hadoop.conf.dir", siteDir.toString(),
                "hadoop.conf.dfs.replication", "1",
                "hdfs.tag-file.refresh-seconds", "0",
                "hdfs.kerberos.principal", principal + "@" + realm,
                "hdfs.kerberos.keytab", keytabFile.toString(),
                "squashfs.cache.dir", node.base.resolve("secure-cache-" + (++configs)).toString())));
        return settings;
    }

    private static Path config(String principal, Path keytabFile) throws Exception {
        return node.configFile("secure-" + (++configs), settings(principal, keytabFile));
    }

    @Test
    @Order(1)
    void importsIntoTheSecureStoreAndLaunchesFromIt() throws Exception {
        Path config = config("runcible/localhost", keytab);
        Cli imported = Cli.run(config, "import", "dir:" + node.base.resolve("rootfs-test_busybox_1"), "--to", root,
                "--tag", "secure/busybox:1", "--change", "CMD [\"echo\", \"from a secure store\"]",
                "--change", "USER worker");
        assertThat(imported.exitCode()).as(imported.err()).isZero();
        Cli run = Cli.run(config, "run", "--rm", "secure/busybox:1");
        assertThat(run.err()).isEmpty();
        assertThat(run.out()).isEqualTo("from a secure store\n");
        node.assertNothingLeftRunning();
    }

    @Test
    @Order(2)
    void aWrongKeytabOrPrincipalIsAClearError() throws Exception {
        Cli wrongPrincipal = Cli.run(config("nobody/localhost", keytab), "images");
        assertThat(wrongPrincipal.exitCode()).isEqualTo(125);
        assertThat(wrongPrincipal.err()).contains("Cannot log in to " + root + " as 'nobody/localhost@" + realm)
                .contains("hdfs.kerberos.principal").contains("klist -kt");
        Cli wrongKeytab = Cli.run(config("runcible/localhost", node.base.resolve("kdc/other.keytab")), "images");
        assertThat(wrongKeytab.exitCode()).isEqualTo(125);
        assertThat(wrongKeytab.err()).contains("Cannot log in to " + root).contains("other.keytab");
        Cli missing = Cli.run(config("runcible/localhost", node.base.resolve("kdc/missing.keytab")), "images");
        assertThat(missing.exitCode()).isEqualTo(125);
        assertThat(missing.err()).contains("missing.keytab");
    }

    @Test
    @Order(3)
    void aLongLivedLauncherOutlivesItsOneMinuteTicket() throws Exception {
        try (Runcible runcible = Runcible.open(Settings.of(settings("runcible/localhost", keytab), Map.of()),
                SecureHdfsIT.class.getClassLoader())) {
            ImageReference image = ImageReference.parse("secure/busybox:1");
            assertThat(runcible.tagToManifest().resolve(image).digest()).isNotNull();
            // Past the ticket's lifetime, and past the client's idle connection: a new one must authenticate.
            Thread.sleep(75_000);
            assertThat(runcible.tagToManifest().resolve(image).digest()).isNotNull();
            assertThat(runcible.pull(image).layers()).isNotEmpty();
        }
    }
}
