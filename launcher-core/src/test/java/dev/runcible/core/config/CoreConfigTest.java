package dev.runcible.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.ImageReference;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CoreConfigTest {
    @Test
    void defaults() throws Exception {
        Settings settings = Settings.of(Map.of(), Map.of());
        CoreConfig config = CoreConfig.from(settings);
        assertThat(config.tagToManifest()).isEqualTo("local");
        assertThat(config.manifestToResources()).isEqualTo("local");
        assertThat(config.localizer()).isEqualTo("squashfs");
        assertThat(config.runDir()).isEqualTo(Path.of("/var/lib/runcible/run"));
        assertThat(config.runcBinary()).isEqualTo("runc");
        assertThat(config.allowedImages().allows(ImageReference.parse("anything/at:all"))).isTrue();
        assertThat(config.allowedReadOnly()).isEmpty();
        assertThat(config.allowedReadWrite()).isEmpty();
        assertThat(config.allowRoot()).isFalse();
        assertThat(config.seccompProfile()).isEqualTo("default");
        assertThat(config.defaultPids()).isEqualTo(4096);
        assertThat(config.keepLayerMounts()).as("idle layer mounts kept, as Storm and YARN keep").isEqualTo(100);
        settings.check();
    }

    @Test
    void fullMapping() throws Exception {
        Settings settings = Settings.of(Map.ofEntries(
                Map.entry("runcible.image.tag-to-manifest", "hdfs"),
                Map.entry("runcible.image.manifest-to-resources", "registry"),
                Map.entry("runcible.image.localizer", "other"),
                Map.entry("runcible.run.dir", "/run/runcible"),
                Map.entry("runcible.runc.binary", "/usr/bin/crun"),
                Map.entry("runcible.allowed.images", "demo/app"),
                Map.entry("runcible.mounts.allowed-ro", "/data,/etc/ssl"),
                Map.entry("runcible.mounts.allowed-rw", "/scratch"),
                Map.entry("runcible.allow-root", "true"),
                Map.entry("runcible.seccomp.profile", "/etc/runcible/seccomp.json"),
                Map.entry("runcible.pids.default", "0")), Map.of());
        CoreConfig config = CoreConfig.from(settings);
        assertThat(config.tagToManifest()).isEqualTo("hdfs");
        assertThat(config.manifestToResources()).isEqualTo("registry");
        assertThat(config.localizer()).isEqualTo("other");
        assertThat(config.runDir()).isEqualTo(Path.of("/run/runcible"));
        assertThat(config.runcBinary()).isEqualTo("/usr/bin/crun");
        assertThat(config.allowedImages().allows(ImageReference.parse("demo/app:v2"))).isTrue();
        assertThat(config.allowedImages().allows(ImageReference.parse("other/app"))).isFalse();
        assertThat(config.allowedReadOnly()).containsExactly(Path.of("/data"), Path.of("/etc/ssl"));
        assertThat(config.allowedReadWrite()).containsExactly(Path.of("/scratch"));
        assertThat(config.allowRoot()).isTrue();
        assertThat(config.seccompProfile()).isEqualTo("/etc/runcible/seccomp.json");
        assertThat(config.defaultPids()).isZero();
        settings.check();
    }

    @Test
    void rejectsARunDirectoryOverlayCannotUse() {
        Settings settings = Settings.of(Map.of("runcible.run.dir", "/var/run:x",
                "runcible.mounts.allowed-rw", "relative", "runcible.allow-root", "yes",
                "runcible.seccomp.profile", "strict"), Map.of());
        CoreConfig.from(settings);
        assertThatThrownBy(settings::check).hasMessageContaining("'runcible.run.dir' must not contain")
                .hasMessageContaining("'runcible.allow-root' must be true or false, got 'yes'")
                .hasMessageContaining("'runcible.seccomp.profile' must be 'default', 'unconfined' or the absolute")
                .hasMessageContaining("'runcible.mounts.allowed-rw' entries must be absolute paths, got 'relative'");
    }

    @Test
    void imagePolicyMatchesRepositoriesExactNamesAndPrefixes() throws Exception {
        List<String> problems = new java.util.ArrayList<>();
        ImagePolicy policy = ImagePolicy.parse(List.of("busybox", "demo/app:1.0", "127.0.0.1:5000/*"), problems);
        assertThat(problems).isEmpty();
        assertThat(policy.allows(ImageReference.parse("docker.io/library/busybox:1.36"))).isTrue();
        assertThat(policy.allows(ImageReference.parse("demo/app:1.0"))).isTrue();
        assertThat(policy.allows(ImageReference.parse("demo/app:2.0"))).isFalse();
        assertThat(policy.allows(ImageReference.parse("127.0.0.1:5000/team/x:y"))).isTrue();
        assertThat(policy.allows(ImageReference.parse("127.0.0.1:5001/team/x:y"))).isFalse();
        assertThatThrownBy(() -> policy.check(ImageReference.parse("evil/app")))
                .hasMessageContaining("'evil/app:latest' is not allowed")
                .hasMessageContaining("runcible.allowed.images");
    }

    @Test
    void imagePolicyReportsBadEntries() {
        List<String> problems = new java.util.ArrayList<>();
        ImagePolicy.parse(List.of("Bad Name"), problems);
        assertThat(problems).singleElement().asString().contains("'Bad Name'");
    }

    @Test
    void sizesFollowDockerUnits() {
        assertThat(Sizes.parse("512m")).isEqualTo(512L << 20);
        assertThat(Sizes.parse("1G")).isEqualTo(1L << 30);
        assertThat(Sizes.parse("100")).isEqualTo(100);
        assertThat(Sizes.parse("4kb")).isEqualTo(4096);
        assertThat(Sizes.parse("12x")).isEqualTo(-1);
        assertThat(Sizes.parse("-1m")).isEqualTo(-1);
        assertThat(Sizes.parse("99999999999999t")).isEqualTo(-1);
        assertThat(Sizes.parse("")).isEqualTo(-1);
    }
}
