package dev.runcible.hdfs;

import dev.runcible.api.ConfigurationException;
import dev.runcible.api.ImageNotFoundException;
import dev.runcible.api.PolicyViolationException;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.security.AccessControlException;
import org.apache.hadoop.security.UserGroupInformation;

/**
 * One Hadoop Configuration and FileSystem per plugin context, made on first use. The client is told to fail
 * within seconds rather than retry for minutes: a node launcher must report an unreachable NameNode or a lost
 * DataNode promptly. Anything set with {@code hadoop.conf.<key>} wins over these defaults.
 */
final class HdfsConnection {
    /** Bounded failure: a few quick connection tries, one block acquisition round, short timeouts. */
    static final Map<String, String> BOUNDED_DEFAULTS = Map.of(
            "ipc.client.connect.max.retries", "2",
            "ipc.client.connect.retry.interval", "300",
            "ipc.client.connect.max.retries.on.timeouts", "2",
            "ipc.client.connect.timeout", "5000",
            "dfs.client.retry.policy.enabled", "false",
            "dfs.client.max.block.acquire.failures", "1",
            "dfs.client.retry.window.base", "200",
            "dfs.client.socket-timeout", "20000",
            "fs.hdfs.impl.disable.cache", "true");

    private final HdfsSettings settings;
    private FileSystem fileSystem;
    /** The keytab login of a secure cluster's client; this connection's own, not the JVM's login user. */
    private UserGroupInformation login;

    HdfsConnection(HdfsSettings settings) {
        this.settings = settings;
    }

    HdfsSettings settings() {
        return settings;
    }

    URI root() throws ConfigurationException {
        return settings.root().orElseThrow(() -> new ConfigurationException(List.of("'" + HdfsSettings.ROOT
                + "' is not set; give the store's location, e.g. hdfs://namenode:8020/runc-root")));
    }

    /**
     * The filesystem, connected on first use. With a Kerberos principal, the keytab login is this connection's own
     * (a long-lived agent may serve several configurations), the filesystem is made as that user, and before each
     * use the ticket is renewed from the keytab once most of its lifetime has passed.
     */
    synchronized FileSystem fileSystem() throws RuncibleException {
        URI root = root();
        if (fileSystem != null) {
            if (login != null) {
                try {
                    login.checkTGTAndReloginFromKeytab();
                } catch (IOException e) {
                    throw loginFailure(e, root);
                }
            }
            return fileSystem;
        }
        Configuration conf = configuration(settings);
        try {
            if (settings.principal().isPresent()) {
                conf.set("hadoop.security.authentication", "kerberos");
                UserGroupInformation.setConfiguration(conf);
                try {
                    login = UserGroupInformation.loginUserFromKeytabAndReturnUGI(settings.principal().get(),
                            settings.keytab().orElseThrow().toString());
                } catch (IOException e) {
                    throw loginFailure(e, root);
                }
                fileSystem = login.doAs((java.security.PrivilegedExceptionAction<FileSystem>) ()
                        -> FileSystem.newInstance(root, conf));
            } else {
                fileSystem = FileSystem.newInstance(root, conf);
            }
            return fileSystem;
        } catch (IOException e) {
            throw translate(e, "connect to " + root);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ResourceUnavailableException("Interrupted while connecting to " + root, e);
        }
    }

    private PolicyViolationException loginFailure(IOException e, URI root) {
        return new PolicyViolationException("Cannot log in to " + root + " as '" + settings.principal().orElse("")
                + "' with the keytab " + settings.keytab().map(Object::toString).orElse("") + ": " + firstLine(e)
                + "; check " + HdfsSettings.PRINCIPAL + " and " + HdfsSettings.KEYTAB + " ('klist -kt KEYTAB' lists "
                + "the principals a keytab holds)");
    }

    static Configuration configuration(HdfsSettings settings) {
        Configuration conf = new Configuration();
        settings.confDir().ifPresent(dir -> {
            for (String file : List.of("core-site.xml", "hdfs-site.xml")) {
                if (Files.isRegularFile(dir.resolve(file))) {
                    conf.addResource(new org.apache.hadoop.fs.Path(dir.resolve(file).toUri()));
                }
            }
        });
        BOUNDED_DEFAULTS.forEach((key, value) -> {
            if (!isSetInSite(conf, key)) {
                conf.set(key, value);
            }
        });
        settings.overrides().forEach(conf::set);
        return conf;
    }

    /** Whether a key was set by a site file, which an operator wrote on purpose. */
    private static boolean isSetInSite(Configuration conf, String key) {
        String[] sources = conf.getPropertySources(key);
        if (sources == null) {
            return false;
        }
        for (String source : sources) {
            if (source.endsWith("-site.xml")) {
                return true;
            }
        }
        return false;
    }

    /** An I/O failure as the typed error a user reads, naming what was tried. */
    static RuncibleException translate(IOException e, String what) {
        String message = "Cannot " + what + ": " + firstLine(e);
        if (e instanceof FileNotFoundException) {
            return new ImageNotFoundException(message);
        }
        if (e instanceof AccessControlException) {
            return new PolicyViolationException(message + "; the launcher's HDFS user lacks permission");
        }
        if (e instanceof java.net.ConnectException || e.getCause() instanceof java.net.ConnectException) {
            return new ResourceUnavailableException(message + "; is the NameNode running and hdfs.root right?", e);
        }
        return new ResourceUnavailableException(message, e);
    }

    static String firstLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    synchronized void close() {
        if (fileSystem != null) {
            try {
                fileSystem.close();
            } catch (IOException e) {
                // closing
            }
            fileSystem = null;
        }
        login = null;
    }
}
