"""Explanations of a model version's scores: how much each raw input moved a score away
from the version's base value, in the scale the score is read in (log-odds for a
classifier, the value's units for a regressor), with reasons in words.

Training builds a version's explainer and checks that it adds up to the served score;
serving loads it beside the version (the ``[explain]`` extra). Neither the predict path
nor the ``[serve]`` install needs it.
"""
