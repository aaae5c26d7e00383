"""MTTQ work-program tracker."""
