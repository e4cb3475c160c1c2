"""Small, bounded demonstrations the lessons run on the real broker.

Each one is also run by the tests, so what a lesson shows happening is proven to happen.
"""
