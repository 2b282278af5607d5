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
 * (none) or the path of an OCI seccomp JSON object.
 *
 * <p>The built-in profile is an allow list at least as strict as docker's default, under which docker runs JVMs,
 * shells and Python: a call not listed fails with EPERM. {@code clone} is allowed only without namespace flags
 * (no CAP_SYS_ADMIN is ever granted), {@code clone3} answers ENOSYS so that libc falls back to {@code clone}, where
 * the flags can be seen; {@code personality} takes only docker's values; sockets of AF_ALG and AF_VSOCK are refused.
 * Stricter than docker: no io_uring, no ptrace or cross-process memory access, no {@code clock_adjtime} and no
 * {@code name_to_handle_at}. {@code chroot} is listed because root in a container holds CAP_SYS_CHROOT.
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

    /**
     * The native architecture and its 32-bit compat one, so that 32-bit binaries still run. Not x32, which docker
     * lists too: libseccomp then refuses x32 calls outright (Debian's kernels leave x32 off anyway), and each
     * architecture in the filter costs runc about 5 ms per launch to compile.
     */
    static List<String> hostArchitectures() {
        return switch (System.getProperty("os.arch").toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86");
            case "aarch64", "arm64" -> List.of("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
            default -> List.of();
        };
    }
}
