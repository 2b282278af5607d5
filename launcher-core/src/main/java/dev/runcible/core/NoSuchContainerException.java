package dev.runcible.core;

import dev.runcible.api.RuncibleException;

/** No container has the given id, id prefix or name. */
public class NoSuchContainerException extends RuncibleException {
    public NoSuchContainerException(String message) {
        super(message);
    }
}
