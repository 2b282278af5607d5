package dev.runcible.core.image;

import dev.runcible.api.Platform;
import java.util.Locale;
import java.util.Optional;

/** This machine's platform in OCI terms (GOOS/GOARCH names). */
public final class HostPlatform {
    private HostPlatform() {
    }

    public static Platform current() {
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "amd64", "x86_64" -> new Platform("linux", "amd64", Optional.empty());
            case "aarch64", "arm64" -> new Platform("linux", "arm64", Optional.of("v8"));
            case "ppc64le" -> new Platform("linux", "ppc64le", Optional.empty());
            case "s390x" -> new Platform("linux", "s390x", Optional.empty());
            default -> new Platform("linux", arch, Optional.empty());
        };
    }

    /** Whether an index entry's platform runs here; a missing variant matches any. */
    public static boolean matches(Platform host, Platform candidate) {
        return host.os().equals(candidate.os()) && host.architecture().equals(candidate.architecture())
                && (candidate.variant().isEmpty() || host.variant().isEmpty()
                        || candidate.variant().equals(host.variant()));
    }
}
