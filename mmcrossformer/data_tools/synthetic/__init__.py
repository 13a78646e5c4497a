"""Seeded synthetic Human3.6M and MPI-INF-3DHP generators."""
