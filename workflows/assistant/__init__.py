"""The intake assistant (智能调解助手): suggests a category, urgency flags and points of dispute
from the description a clerk types; records what it suggested and what the clerk chose."""
