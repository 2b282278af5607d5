package dev.runcible.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.core.image.Json;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Golden files: the generated config is compared with reviewed JSON under src/test/resources/golden. */
class RuntimeConfigBuilderTest {
    private static String golden(String name) throws Exception {
        try (InputStream in = RuntimeConfigBuilderTest.class.getResourceAsStream("/golden/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Byte for byte: field order and number formatting are part of what runc reads. */
    private static String render(RuntimeSpec spec) throws Exception {
        return Json.MAPPER.writeValueAsString(RuntimeConfigBuilder.build(spec)) + "\n";
    }

    @Test
    void rootProcessWithLimitsAndMounts() throws Exception {
        RuntimeSpec spec = new RuntimeSpec(List.of("sh", "-c", "echo hi"), List.of("PATH=/bin", "HOME=/root"), "/work",
                UserIds.ROOT, Limits.parse("512m", 150, 64L),
                List.of(new BindMount(Path.of("/etc/resolv.conf"), "/etc/resolv.conf", true),
                        new BindMount(Path.of("/data"), "/mnt/data", false)),
                "/runcible/abc", 4096, Optional.of(Json.MAPPER.readTree("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                        + "\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":[{\"names\":[\"keyctl\",\"unshare\"],"
                        + "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}")), Network.HOST);
        assertThat(render(spec)).isEqualTo(golden("runtime-config-root.json"));
    }

    @Test
    void theBuiltInSeccompProfileIsAnAllowListThatFiltersCloneAndNamesThisMachinesArchitectures() throws Exception {
        var profile = SeccompProfile.load(SeccompProfile.DEFAULT).orElseThrow();
        assertThat(profile.get("defaultAction").asText()).isEqualTo("SCMP_ACT_ERRNO");
        assertThat(profile.get("defaultErrnoRet").asInt()).isEqualTo(1);
        assertThat(profile.get("architectures")).isNotEmpty();
        var allowed = new java.util.ArrayList<String>();
        var filtered = new java.util.HashMap<String, com.fasterxml.jackson.databind.JsonNode>();
        for (var rule : profile.get("syscalls")) {
            for (var name : rule.get("names")) {
                if (rule.has("args")) {
                    filtered.put(name.asText(), rule);
                } else if (rule.get("action").asText().equals("SCMP_ACT_ALLOW")) {
                    allowed.add(name.asText());
                } else {
                    filtered.put(name.asText(), rule);
                }
            }
        }
        assertThat(allowed).contains("read", "futex", "execve", "wait4", "rt_sigaction", "sched_getaffinity")
                .doesNotContain("clone", "clone3", "unshare", "setns", "mount", "keyctl", "ptrace", "bpf",
                        "init_module", "kexec_load", "open_by_handle_at", "userfaultfd", "io_uring_setup",
                        "io_uring_enter", "io_uring_register", "personality", "socket", "perf_event_open");
        var clone = filtered.get("clone").get("args").get(0);
        assertThat(clone.get("op").asText()).isEqualTo("SCMP_CMP_MASKED_EQ");
        assertThat(clone.get("value").asLong()).isEqualTo(0x7E020000L); // every CLONE_NEW* flag
        assertThat(clone.get("valueTwo").asLong()).isZero();
        assertThat(filtered.get("clone3").get("errnoRet").asInt()).isEqualTo(38); // ENOSYS
        assertThat(SeccompProfile.load(SeccompProfile.UNCONFINED)).isEmpty();
    }

    @Test
    void unprivilegedUserGetsOnlyTheBoundingSetNoLimitsWhenNoneAskedAndItsOwnNetworkForNone() throws Exception {
        RuntimeSpec spec = new RuntimeSpec(List.of("/app/run"), List.of("PATH=/bin"), "/",
                new UserIds(1000, 1000, List.of(27, 100), "/home/app"), Limits.NONE, List.of(), "/runcible/def", 1024,
                Optional.empty(), Network.NONE);
        assertThat(render(spec)).isEqualTo(golden("runtime-config-user.json"));
    }
}
