package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/** The platform an image (or an entry of an image index) is built for. */
public record Platform(String os, String architecture, Optional<String> variant) {
    public Platform {
        requireNonNull(os, "os is null");
        requireNonNull(architecture, "architecture is null");
        requireNonNull(variant, "variant is null");
    }

    @Override
    public String toString() {
        return os + "/" + architecture + variant.map(v -> "/" + v).orElse("");
    }
}
