package dev.runcible.core.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.core.image.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The seccomp filter of {@code runcible.seccomp.profile}: {@code default} (the built-in profile), {@code unconfined}
 * (none) or the path of an OCI seccomp JSON object. The built-in profile allows everything but 51 system calls
 * that a workload has no business making and that have carried container escapes: loading kernel modules, keyrings,
 * new namespaces and mounts, ptrace and cross-process memory access, bpf, perf, userfaultfd, clock and reboot.
 * It is a deny list rather than docker's allow list so that it cannot break ordinary programs (JVMs, shells).
 */
public final class SeccompProfile {
    public static final String DEFAULT = "default";
    public static final String UNCONFINED = "unconfined";

    private SeccompProfile() {
    }

    /** The profile to put into {@code linux.seccomp}, or empty for none. */
    public static Optional<JsonNode> load(String setting) throws IOException {
        if (setting.equals(UNCONFINED)) {
            return Optional.empty();
        }
        JsonNode profile;
        if (setting.equals(DEFAULT)) {
            try (InputStream in = SeccompProfile.class.getResourceAsStream("seccomp-default.json")) {
                if (in == null) {
                    throw new UncheckedIOException(new IOException("seccomp-default.json is missing from the jar"));
                }
                profile = Json.MAPPER.readTree(in);
            }
        } else {
            profile = Json.MAPPER.readTree(Files.readAllBytes(Path.of(setting)));
        }
        if (!profile.isObject() || !profile.has("defaultAction")) {
            throw new IOException("'" + setting + "' is not an OCI seccomp object with a defaultAction");
        }
        ObjectNode object = (ObjectNode) profile;
        if (!object.has("architectures") || object.get("architectures").isEmpty()) {
            ArrayNode architectures = object.putArray("architectures");
            hostArchitectures().forEach(architectures::add);
        }
        return Optional.of(object);
    }

    /** The native architecture and the compat ones a binary may still call in with. */
    static List<String> hostArchitectures() {
        return switch (System.getProperty("os.arch").toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
            case "aarch64", "arm64" -> List.of("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
            default -> List.of();
        };
    }
}
