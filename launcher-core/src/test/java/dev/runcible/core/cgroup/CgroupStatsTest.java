package dev.runcible.core.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parsing of both hierarchies. This machine has hybrid cgroups (v1 controllers), so the real-container test
 * reads v1; the v2 files here are laid out as the kernel writes them, because no v2 host can run here.
 */
class CgroupStatsTest {
    @TempDir
    Path root;

    private void write(String relative, String content) throws Exception {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    @Test
    void readsCgroupV2() throws Exception {
        write("cgroup.controllers", "cpuset cpu io memory pids\n");
        write("runcible/abc/memory.current", "1048576\n");
        write("runcible/abc/memory.max", "67108864\n");
        write("runcible/abc/cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n");
        write("runcible/abc/pids.current", "3\n");
        write("runcible/abc/pids.max", "max\n");
        CgroupStats stats = CgroupStats.read(root, "/runcible/abc");
        assertThat(stats).isEqualTo(new CgroupStats("v2", 1048576, OptionalLong.of(67108864), 2_500_000, 3,
                OptionalLong.empty()));
        assertThat(CgroupStats.exists(root, "/runcible/abc")).isTrue();
        assertThat(CgroupStats.exists(root, "/runcible/gone")).isFalse();
    }

    @Test
    void readsCgroupV1AndItsUnlimitedMarker() throws Exception {
        write("memory/runcible/abc/memory.usage_in_bytes", "2097152\n");
        write("memory/runcible/abc/memory.limit_in_bytes", "9223372036854771712\n");
        write("cpuacct/runcible/abc/cpuacct.usage", "123456789\n");
        write("pids/runcible/abc/pids.current", "7\n");
        write("pids/runcible/abc/pids.max", "4096\n");
        CgroupStats stats = CgroupStats.read(root, "/runcible/abc");
        assertThat(stats).isEqualTo(new CgroupStats("v1", 2097152, OptionalLong.empty(), 123456789, 7,
                OptionalLong.of(4096)));
    }

    @Test
    void garbageIsAnErrorNamingTheFile() throws Exception {
        write("memory/runcible/x/memory.usage_in_bytes", "lots\n");
        write("memory/runcible/x/memory.limit_in_bytes", "4096\n");
        assertThatThrownBy(() -> CgroupStats.read(root, "/runcible/x"))
                .hasMessageContaining("memory.usage_in_bytes does not hold a number");
    }
}
