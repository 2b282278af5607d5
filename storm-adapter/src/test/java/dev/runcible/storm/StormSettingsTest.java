package dev.runcible.storm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.storm.utils.Utils;
import org.junit.jupiter.api.Test;

/** How Storm's supervisor configuration becomes the adapter's, and which keys it refuses at the start. */
class StormSettingsTest {
    private static final Path HOME = Path.of("/opt/storm");

    /** Storm's defaults (as the supervisor reads them) with {@code overrides}. */
    private static Map<String, Object> conf(Map<String, Object> overrides) {
        Map<String, Object> conf = new HashMap<>(Utils.readDefaultConfig());
        conf.put("storm.local.dir", "/var/storm");
        conf.putAll(overrides);
        return conf;
    }

    private static StormSettings settings(Map<String, Object> overrides) {
        return StormSettings.from(conf(overrides), HOME, Map.of());
    }

    @Test
    void stormsOwnKeysKeepTheirMeaning() {
        StormSettings settings = settings(Map.of("storm.oci.image", "storm/rhel7:dev", "storm.oci.allowed.images",
                List.of("storm/rhel7:dev", "storm/rhel8:dev"), "storm.oci.readonly.bindmounts",
                List.of("/etc/krb5.conf"),
                "storm.oci.readwrite.bindmounts", List.of("/scratch"), "storm.worker.cgroup.cpu.limit", 150,
                "storm.cgroup.memory.enforcement.enable", true));
        assertThat(settings.defaultImage()).isEqualTo("storm/rhel7:dev");
        assertThat(settings.cgroupParent()).as("Storm's default /storm").isEqualTo("storm");
        assertThat(settings.cgroupRoot()).isEqualTo(Path.of("/sys/fs/cgroup"));
        assertThat(settings.readOnlyMounts()).containsExactly("/etc/krb5.conf");
        assertThat(settings.readWriteMounts()).containsExactly("/scratch");
        assertThat(settings.cpuLimit()).contains(150);
        assertThat(settings.memoryEnforced()).isTrue();
        assertThat(settings.socket()).isEqualTo(Path.of(StormSettings.DEFAULT_SOCKET));
        assertThat(settings.stormHome()).isEqualTo(HOME);
        assertThat(settings.image(Map.of())).isEqualTo("storm/rhel7:dev");
        assertThat(settings.image(Map.of("topology.oci.image", "storm/rhel8:dev"))).isEqualTo("storm/rhel8:dev");
    }

    @Test
    void theSocketComesFromStormYamlThenTheEnvironment() {
        assertThat(StormSettings.from(conf(Map.of()), HOME, Map.of("RUNCIBLE_AGENT_SOCKET", "/run/a.sock")).socket())
                .isEqualTo(Path.of("/run/a.sock"));
        assertThat(StormSettings.from(conf(Map.of("runcible.agent.socket", "/run/b.sock")), HOME,
                Map.of("RUNCIBLE_AGENT_SOCKET", "/run/a.sock")).socket()).isEqualTo(Path.of("/run/b.sock"));
        assertThatThrownBy(() -> settings(Map.of("runcible.agent.socket", "agent.sock")))
                .isInstanceOf(StormConfigException.class).hasMessageContaining("runcible.agent.socket=agent.sock");
    }

    @Test
    void keysTheAgentDecidesForEveryContainerAreRefusedWithTheAgentsKey() {
        assertThatThrownBy(() -> settings(Map.of("storm.oci.seccomp.profile", "/etc/storm/seccomp.json")))
                .isInstanceOf(StormConfigException.class)
                .hasMessageContaining("storm.oci.seccomp.profile=/etc/storm/seccomp.json")
                .hasMessageContaining("runcible.seccomp.profile");
        assertThatThrownBy(() -> settings(Map.of("storm.oci.layer.mounts.to.keep", 50)))
                .isInstanceOf(StormConfigException.class).hasMessageContaining("storm.oci.layer.mounts.to.keep=50")
                .hasMessageContaining("runcible.layer-mounts.keep");
    }

    @Test
    void stormsHdfsStorePluginsAreServedByTheAgentButNoOtherPlugin() {
        assertThat(settings(Map.of("storm.oci.image.tag.to.manifest.plugin",
                "org.apache.storm.container.oci.LocalOrHdfsImageTagToManifestPlugin",
                "storm.oci.resources.localizer", "org.apache.storm.container.oci.HdfsOciResourcesLocalizer",
                "storm.oci.image.hdfs.toplevel.dir", "hdfs://nn:8020/containers"))).isNotNull();
        assertThatThrownBy(() -> settings(Map.of("storm.oci.manifest.to.resources.plugin", "com.example.MyPlugin")))
                .isInstanceOf(StormConfigException.class)
                .hasMessageContaining("storm.oci.manifest.to.resources.plugin=com.example.MyPlugin");
    }

    @Test
    void imagesOutsideTheAllowedListAreRefusedNamingTheImage() {
        StormSettings settings = settings(Map.of("storm.oci.image", "a/b:1", "storm.oci.allowed.images",
                List.of("a/b:1")));
        assertThatThrownBy(() -> settings.image(Map.of("topology.oci.image", "evil/x:1")))
                .isInstanceOf(StormConfigException.class).hasMessageContaining("evil/x:1")
                .hasMessageContaining("storm.oci.allowed.images");
        assertThat(settings(Map.of("storm.oci.allowed.images", List.of("*"), "storm.oci.image", "a/b:1"))
                .image(Map.of("topology.oci.image", "any/image:2"))).isEqualTo("any/image:2");
        assertThatThrownBy(() -> settings(Map.of("storm.oci.image", "x/y:1", "storm.oci.allowed.images",
                List.of("a/b:1")))).isInstanceOf(StormConfigException.class).hasMessageContaining("x/y:1");
        assertThatThrownBy(() -> settings(Map.of()).image(Map.of())).isInstanceOf(StormConfigException.class)
                .hasMessageContaining("storm.oci.image");
    }

    @Test
    void badPathsAreStartupErrorsNamingTheKey() {
        assertThatThrownBy(() -> settings(Map.of("storm.oci.cgroup.parent", "/storm/../other")))
                .isInstanceOf(StormConfigException.class).hasMessageContaining("storm.oci.cgroup.parent");
        assertThatThrownBy(() -> settings(Map.of("storm.oci.readonly.bindmounts", List.of("/a:/b"))))
                .isInstanceOf(StormConfigException.class).hasMessageContaining("/a:/b");
        assertThatThrownBy(() -> settings(Map.of("storm.oci.nscd.dir", "/nonexistent/nscd")))
                .isInstanceOf(StormConfigException.class).hasMessageContaining("/nonexistent/nscd");
        Path nscd = Path.of("/var/run/nscd");
        assertThat(settings(Map.of()).nscd()).as("Storm's default, bound only where the node has it")
                .isEqualTo(java.nio.file.Files.isDirectory(nscd) ? Optional.of(nscd) : Optional.empty());
        assertThatThrownBy(() -> settings(Map.of("storm.local.dir", "/tmp/storm")))
                .isInstanceOf(StormConfigException.class).hasMessageContaining("storm.local.dir=/tmp/storm");
    }

    @Test
    void numaZonesBecomeCpusetsAndMemoryNodes() {
        StormSettings settings = settings(Map.of("supervisor.numa.meta", Map.of("0", Map.of("numa.cores",
                List.of(0, 1), "numa.memory.mb", 1024, "numa.ports", List.of(6700)))));
        assertThat(settings.numa()).containsEntry("0", new StormSettings.Numa("0,1", "0"));
        assertThat(settings.cpuLimit()).isEqualTo(Optional.empty());
    }

    @Test
    void idsAreReadFromIdsAnswer() throws IOException {
        HostUser user = HostUser.parse("ann",
                "uid=1001(ann) gid=100(users) groups=100(users),27(sudo),1005(domain users)");
        assertThat(user.uid()).isEqualTo(1001);
        assertThat(user.gid()).isEqualTo(100);
        assertThat(user.groups()).containsExactly(27L, 1005L);
        assertThat(HostUser.parse("bob", "uid=7 gid=7 groups=7").groups()).isEmpty();
        assertThatThrownBy(() -> HostUser.parse("x", "id: 'x': no such user")).isInstanceOf(IOException.class);
    }
}
