package dev.runcible.hdfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.PluginConfig;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

class HdfsSettingsTest {
    /** A minimal PluginConfig over a map, recording used keys and problems as the launcher's does. */
    static final class MapConfig implements PluginConfig {
        final Map<String, String> values;
        final Set<String> used = new HashSet<>();
        final List<String> problems = new ArrayList<>();

        MapConfig(Map<String, String> values) {
            this.values = values;
        }

        @Override
        public Optional<String> get(String key) {
            used.add(key);
            return Optional.ofNullable(values.get(key));
        }

        @Override
        public String get(String key, String defaultValue) {
            return get(key).orElse(defaultValue);
        }

        @Override
        public Path path(String key, Path defaultValue) {
            return get(key).map(Path::of).orElse(defaultValue);
        }

        @Override
        public int integer(String key, int defaultValue, int min, int max) {
            return get(key).map(Integer::parseInt).orElse(defaultValue);
        }

        @Override
        public long bytes(String key, long defaultValue) {
            return defaultValue;
        }

        @Override
        public List<String> list(String key, List<String> defaultValue) {
            return defaultValue;
        }

        @Override
        public Map<String, String> withPrefix(String prefix) {
            Map<String, String> out = new HashMap<>();
            values.forEach((k, v) -> {
                if (k.startsWith(prefix)) {
                    used.add(k);
                    out.put(k.substring(prefix.length()), v);
                }
            });
            return out;
        }

        @Override
        public void problem(String key, String message) {
            problems.add(key + " " + message);
        }
    }

    @Test
    void defaults() {
        MapConfig config = new MapConfig(Map.of());
        HdfsSettings settings = HdfsSettings.from(config);
        assertThat(settings.root()).isEmpty();
        assertThat(settings.refreshSeconds()).isEqualTo(60);
        assertThat(settings.localTagFile()).isEmpty();
        assertThat(settings.overrides()).isEmpty();
        assertThat(config.problems).isEmpty();
    }

    @Test
    void fullMappingAndHadoopPassThrough() {
        MapConfig config = new MapConfig(Map.of(
                "hdfs.root", "hdfs://nn:8020/runc-root",
                "hadoop.conf.dir", "/etc/hadoop/conf",
                "hadoop.conf.dfs.client.socket-timeout", "1234",
                "hdfs.local-tag-file", "/etc/runcible/tags",
                "hdfs.tag-file.refresh-seconds", "5",
                "hdfs.kerberos.principal", "runcible/node@REALM",
                "hdfs.kerberos.keytab", "/etc/security/runcible.keytab"));
        HdfsSettings settings = HdfsSettings.from(config);
        assertThat(settings.root()).contains(URI.create("hdfs://nn:8020/runc-root"));
        assertThat(settings.confDir()).contains(Path.of("/etc/hadoop/conf"));
        assertThat(settings.overrides()).containsExactly(Map.entry("dfs.client.socket-timeout", "1234"));
        assertThat(settings.localTagFile()).contains(Path.of("/etc/runcible/tags"));
        assertThat(settings.refreshSeconds()).isEqualTo(5);
        assertThat(settings.principal()).contains("runcible/node@REALM");
        assertThat(settings.keytab()).contains(Path.of("/etc/security/runcible.keytab"));
        assertThat(config.used).containsAll(config.values.keySet());
        assertThat(config.problems).isEmpty();
        Configuration conf = HdfsConnection.configuration(settings);
        assertThat(conf.get("dfs.client.socket-timeout")).isEqualTo("1234");
        assertThat(conf.get("ipc.client.connect.max.retries")).isEqualTo("2");
    }

    @Test
    void reportsBadValues() {
        MapConfig config = new MapConfig(Map.of("hdfs.root", "no-scheme", "hdfs.kerberos.principal", "p@R"));
        HdfsSettings.from(config);
        assertThat(config.problems).anySatisfy(p -> assertThat(p).contains("hdfs.root").contains("no-scheme"))
                .anySatisfy(p -> assertThat(p).contains("hdfs.kerberos.keytab"));
    }
}
