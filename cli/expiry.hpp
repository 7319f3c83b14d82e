#pragma once
// (placeholder)
