package dev.runcible.core.runtime;

import static java.util.Objects.requireNonNull;

import dev.runcible.core.InvalidRequestException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** A host directory or file bound into a container, from {@code --mount SRC:DST[:ro|rw]}. */
public record BindMount(Path source, String destination, boolean readOnly) {
    public BindMount {
        requireNonNull(source, "source is null");
        requireNonNull(destination, "destination is null");
    }

    public static BindMount parse(String text) throws InvalidRequestException {
        String[] parts = text.split(":", -1);
        if (parts.length < 2 || parts.length > 3) {
            throw new InvalidRequestException("Invalid --mount '" + text + "': use SOURCE:DESTINATION[:ro|rw]");
        }
        boolean readOnly = false;
        if (parts.length == 3) {
            if (!parts[2].equals("ro") && !parts[2].equals("rw")) {
                throw new InvalidRequestException("Invalid --mount '" + text + "': mode '" + parts[2]
                        + "' must be ro or rw");
            }
            readOnly = parts[2].equals("ro");
        }
        if (!parts[0].startsWith("/") || !parts[1].startsWith("/")) {
            throw new InvalidRequestException("Invalid --mount '" + text
                    + "': source and destination must be absolute paths");
        }
        for (String segment : parts[1].split("/")) {
            if (segment.equals("..")) {
                throw new InvalidRequestException("Invalid --mount '" + text + "': the destination may not hold '..'");
            }
        }
        if (parts[1].contains(",")) {
            throw new InvalidRequestException("Invalid --mount '" + text + "': the destination may not hold ','");
        }
        try {
            return new BindMount(Path.of(parts[0]).normalize(), Path.of(parts[1]).normalize().toString(), readOnly);
        } catch (InvalidPathException e) {
            throw new InvalidRequestException("Invalid --mount '" + text + "': " + e.getReason());
        }
    }
}
