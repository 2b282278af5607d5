package dev.runcible.core;

import dev.runcible.api.RuncibleException;

/** A launch or CLI request with a bad value: a size, a name, a mount, a missing command. */
public class InvalidRequestException extends RuncibleException {
    public InvalidRequestException(String message) {
        super(message);
    }
}
