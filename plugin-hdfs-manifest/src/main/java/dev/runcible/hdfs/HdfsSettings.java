package dev.runcible.hdfs;

import dev.runcible.api.PluginConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code hdfs.*} and {@code hadoop.*} configuration keys.
 *
 * @param root {@code hdfs.root}: the store, such as {@code hdfs://namenode:8020/runc-root}
 * @param confDir {@code hadoop.conf.dir}: a directory with core-site.xml and hdfs-site.xml
 * @param overrides every {@code hadoop.conf.<key>=<value>}, passed into the Hadoop Configuration last
 * @param localTagFile {@code hdfs.local-tag-file}: a node-local tag file whose names win over HDFS's, as in Storm
 * @param refreshSeconds {@code hdfs.tag-file.refresh-seconds}: how often tag files are checked for changes
 */
record HdfsSettings(Optional<URI> root, Optional<Path> confDir, Map<String, String> overrides,
        Optional<Path> localTagFile, int refreshSeconds, Optional<String> principal, Optional<Path> keytab) {
    static final String ROOT = "hdfs.root";
    static final String CONF_DIR = "hadoop.conf.dir";
    static final String CONF_PREFIX = "hadoop.conf.";
    static final String LOCAL_TAG_FILE = "hdfs.local-tag-file";
    static final String REFRESH = "hdfs.tag-file.refresh-seconds";
    static final String PRINCIPAL = "hdfs.kerberos.principal";
    static final String KEYTAB = "hdfs.kerberos.keytab";
    static final java.util.List<String> KEYS = java.util.List.of(ROOT, CONF_DIR, CONF_PREFIX, LOCAL_TAG_FILE, REFRESH,
            PRINCIPAL, KEYTAB);

    static HdfsSettings from(PluginConfig config) {
        Optional<URI> root = config.get(ROOT).flatMap(text -> {
            try {
                URI uri = new URI(text);
                if (uri.getScheme() == null || uri.getPath() == null || uri.getPath().isEmpty()) {
                    config.problem(ROOT, "must be a URI such as hdfs://namenode:8020/runc-root, got '" + text + "'");
                    return Optional.empty();
                }
                return Optional.of(uri);
            } catch (URISyntaxException e) {
                config.problem(ROOT, "is not a URI: '" + text + "'");
                return Optional.empty();
            }
        });
        Optional<Path> confDir = config.get(CONF_DIR).map(v -> config.path(CONF_DIR, null));
        Map<String, String> overrides = config.withPrefix(CONF_PREFIX);
        overrides.remove("dir"); // hadoop.conf.dir is ours, not a Hadoop key
        Optional<String> principal = config.get(PRINCIPAL);
        Optional<Path> keytab = config.get(KEYTAB).map(v -> config.path(KEYTAB, null));
        if (principal.isPresent() != keytab.isPresent()) {
            config.problem(principal.isPresent() ? KEYTAB : PRINCIPAL, "must be set together with "
                    + (principal.isPresent() ? PRINCIPAL : KEYTAB));
        }
        return new HdfsSettings(root, confDir, Map.copyOf(overrides),
                config.get(LOCAL_TAG_FILE).map(v -> config.path(LOCAL_TAG_FILE, null)),
                config.integer(REFRESH, 60, 0, 86_400), principal, keytab);
    }
}
