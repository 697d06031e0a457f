/**
 * {@code baton demo}: {@link io.baton.testkit.demo.DemoRunner} puts a bounded load through Baton,
 * hands off to new processes during it and proves that no request failed and every id arrived
 * exactly once.
 */
package io.baton.testkit.demo;
