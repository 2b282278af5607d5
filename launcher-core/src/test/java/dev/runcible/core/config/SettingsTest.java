package dev.runcible.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.ConfigurationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {
    @TempDir
    Path dir;

    @Test
    void substitutesEnvironmentReferences() throws Exception {
        Settings settings = Settings.of(Map.of("local.root", "${ENV:STORE}/images"), Map.of("STORE", "/srv"));
        assertThat(settings.path("local.root", Path.of("/x"))).isEqualTo(Path.of("/srv/images"));
        settings.check();
    }

    @Test
    void reportsEveryProblemInOneException() {
        Settings settings = Settings.of(Map.of(
                "runcible.run.dir", "relative/dir",
                "squashfs.cache.max-bytes", "lots",
                "runcible.typo", "1",
                "registry.password", "${ENV:NOT_SET}"), Map.of());
        settings.path("runcible.run.dir", Path.of("/run"));
        settings.bytes("squashfs.cache.max-bytes", 1);
        settings.get("registry.password");
        assertThatThrownBy(settings::check).isInstanceOfSatisfying(ConfigurationException.class, e -> {
            assertThat(e.problems()).hasSize(4);
            assertThat(e.getMessage())
                    .contains("unknown key 'runcible.typo'")
                    .contains("'runcible.run.dir' must be an absolute path, got 'relative/dir'")
                    .contains("'squashfs.cache.max-bytes' must be a size such as 512m or 20g, got 'lots'")
                    .contains("environment variable NOT_SET");
        });
    }

    @Test
    void neverPrintsSecretValues() {
        Settings settings = Settings.of(Map.of("registry.password", "hunter2", "hdfs.kerberos.keytab-secret", "x1"),
                Map.of());
        settings.integer("registry.password", 0, 0, 10);
        assertThatThrownBy(settings::check).hasMessageNotContaining("hunter2").hasMessageNotContaining("x1")
                .hasMessageContaining("****");
        assertThat(settings.describe()).containsEntry("registry.password", "****");
    }

    @Test
    void parsesTypedValuesAndFallsBackToDefaults() throws Exception {
        Settings settings = Settings.of(Map.of("a.size", "20g", "a.int", "7", "a.list", " x, y ,,z "), Map.of());
        assertThat(settings.bytes("a.size", 0)).isEqualTo(20L << 30);
        assertThat(settings.integer("a.int", 0, 0, 10)).isEqualTo(7);
        assertThat(settings.list("a.list", List.of())).containsExactly("x", "y", "z");
        assertThat(settings.get("absent", "d")).isEqualTo("d");
        settings.check();
    }

    @Test
    void rejectsOutOfRangeIntegers() {
        Settings settings = Settings.of(Map.of("a.int", "11"), Map.of());
        settings.integer("a.int", 0, 0, 10);
        assertThatThrownBy(settings::check).hasMessageContaining("'a.int' must be between 0 and 10, got 11");
    }

    @Test
    void loadsAPropertiesFileAndNamesItInMessages() throws Exception {
        Path file = dir.resolve("runcible.properties");
        Files.writeString(file, "# comment\nlocal.root = /srv/store\nunknown.key=1\n");
        Settings settings = Settings.load(file, Map.of());
        assertThat(settings.path("local.root", null)).isEqualTo(Path.of("/srv/store"));
        assertThatThrownBy(settings::check).hasMessageContaining("unknown key 'unknown.key' in " + file)
                .hasMessageContaining("known keys: local.root");
    }

    @Test
    void missingFileIsAConfigurationError() {
        assertThatThrownBy(() -> Settings.load(dir.resolve("nope.properties"), Map.of()))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("nope.properties does not exist");
    }

    @Test
    void keysAnInstalledPluginDeclaresAreAcceptedUnusedAndATypoNamesTheClosest() {
        Settings settings = Settings.of(Map.of("registry.insecure-registries", "127.0.0.1:5000",
                "hadoop.conf.dfs.replication", "1", "local.root", "/srv/store"), Map.of());
        settings.path("local.root", null);
        java.util.Set<String> declared = java.util.Set.of("registry.insecure-registries", "hadoop.conf.");
        org.assertj.core.api.Assertions.assertThatCode(() -> settings.check(declared)).doesNotThrowAnyException();
        Settings typo = Settings.of(Map.of("registry.insecure-registry", "127.0.0.1:5000", "hadoop.conf.", "x"),
                Map.of());
        assertThatThrownBy(() -> typo.check(declared))
                .hasMessageContaining("unknown key 'registry.insecure-registry'")
                .hasMessageContaining("did you mean 'registry.insecure-registries'?")
                .hasMessageContaining("unknown key 'hadoop.conf.'");
    }
}
