package io.sourcemesh.cluster.store;

/** A registered watch; closing it stops delivery. */
public interface Watch extends AutoCloseable {

    @Override
    void close();
}
