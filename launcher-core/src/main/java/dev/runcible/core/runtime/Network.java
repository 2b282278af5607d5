package dev.runcible.core.runtime;

import dev.runcible.core.InvalidRequestException;
import java.util.Locale;

/** A container's network: the node's own ({@code host}, the default), or a namespace of its own with loopback only. */
public enum Network {
    HOST,
    NONE;

    public static Network parse(String text) throws InvalidRequestException {
        return switch (text == null ? "" : text) {
            case "host" -> HOST;
            case "none" -> NONE;
            default -> throw new InvalidRequestException("Invalid --network '" + text + "': use 'host' (the node's "
                    + "network, the default) or 'none' (loopback only)");
        };
    }

    public String display() {
        return name().toLowerCase(Locale.ROOT);
    }
}
